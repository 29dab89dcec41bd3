"""Transfer progress on a terminal: one bar per file and a total that adds up."""

from __future__ import annotations

from pathlib import Path

from crunch_cli.cli.output import DownloadProgress, UploadProgress, human_size
from crunch_cli.download import Outcome, RemoteFile
from crunch_cli.push.upload import Blob


def test_download_bars_add_up_across_a_resume():
    file = RemoteFile("X_train", "X_train.parquet", "http://hub/blob", 1000, None)
    with DownloadProgress(interactive=True) as progress:
        progress.start(file, 0)
        progress.advance(file, 400)
        progress.start(file, 300)  # the connection dropped; 300 bytes were kept
        progress.advance(file, 700)
        progress.finish(file, Outcome.RESUMED)
        tasks = {task.description: task for task in progress._bar.tasks}

    assert tasks["X_train.parquet ✓"].completed == 1000
    assert tasks["total"].completed == 1000
    assert tasks["total"].total == 1000


def test_upload_bar_counts_only_what_is_left_to_send():
    blob = Blob("model.bin", 5000, "ab" * 32, source=Path("model.bin"))
    with UploadProgress(interactive=True) as progress:
        progress.start(blob, 2000)
        progress.advance(blob, 3000)
        progress.finish(blob, sent=True)
        total = progress._bar.tasks[0]

    assert (total.completed, total.total) == (5000, 5000)


def test_sizes_read_like_a_person_writes_them():
    assert [human_size(size) for size in (0, 999, 1000, 1_234_567, 5e9)] == [
        "0 B",
        "999 B",
        "1.0 KB",
        "1.2 MB",
        "5.0 GB",
    ]
