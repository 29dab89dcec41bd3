"""What push and download show while files move: bars on a terminal only when bytes move,
one plain line per file otherwise, and a `--dry` listing a pipe can read in full."""

from __future__ import annotations

import hashlib
from pathlib import Path

from on_terminal import run_on_terminal, screen_lines

MAIN = """\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=0.0)
"""


def write_code(root: Path, **extra: bytes) -> None:
    (root / "main.py").write_text(MAIN)
    (root / "requirements.txt").write_text("pandas\n")
    for name, content in extra.items():
        (root / "resources" / name).write_bytes(content)


def test_pushing_unchanged_files_on_a_terminal_draws_no_empty_total_bar(workspace, crunch):
    write_code(workspace)
    assert crunch("push", "-m", "first", "--no-pip-freeze").exit_code == 0

    status, written = run_on_terminal("push", "-m", "again", "--no-pip-freeze", cwd=workspace)

    assert status == 0, written
    assert "0/0 bytes" not in written
    lines = screen_lines(written)
    assert "main.py (160 B): unchanged, not sent" in lines
    assert "Submission #2 created: 2 files, 0 B sent" in lines


def test_downloading_data_that_is_up_to_date_on_a_terminal_prints_plain_lines(workspace):
    status, written = run_on_terminal("download", cwd=workspace)

    assert status == 0, written
    assert "0/0 bytes" not in written
    lines = screen_lines(written)
    assert [line for line in lines if line.endswith(": up to date")] == [
        line for line in lines if "up to date" in line and "data files" not in line
    ]
    assert "5 data files in data (0 downloaded, 5 already up to date)" in lines


def test_a_push_that_sends_one_file_on_a_terminal_says_the_unchanged_ones_on_lines_of_their_own(
    workspace, crunch
):
    write_code(workspace, **{"model.bin": b"m" * 5000})
    assert crunch("push", "-m", "first", "--no-pip-freeze").exit_code == 0
    (workspace / "main.py").write_text(MAIN + "# changed\n")

    status, written = run_on_terminal("push", "-m", "again", "--no-pip-freeze", cwd=workspace)

    assert status == 0, written
    lines = screen_lines(written)
    assert "model.bin (5.0 KB): unchanged, not sent" in lines
    assert any(line.startswith("total") and "170/170 bytes" in line for line in lines), lines


def test_push_dry_into_a_pipe_prints_every_path_and_sha256_in_full(workspace, crunch):
    deep = "features/engineering/" + "long_module_name_" * 6 + ".py"
    (workspace / deep).parent.mkdir(parents=True)
    (workspace / deep).write_text("X = 1\n")
    write_code(workspace)

    result = crunch("push", "--dry", "--no-pip-freeze")

    assert result.exit_code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines() if "\t" in line]
    assert [deep, "code", "6", hashlib.sha256(b"X = 1\n").hexdigest(), ""] in rows
    main = hashlib.sha256(MAIN.encode()).hexdigest()
    assert ["main.py", "code", str(len(MAIN)), main, ""] in rows


def test_push_dry_on_a_terminal_prints_a_table(workspace):
    write_code(workspace)

    status, written = run_on_terminal("push", "--dry", "--no-pip-freeze", cwd=workspace)

    assert status == 0, written
    rows = [line.split() for line in screen_lines(written)]
    main = hashlib.sha256(MAIN.encode()).hexdigest()
    assert ["path", "kind", "size", "sha256"] in rows
    assert ["main.py", "code", "160", "B", main[:12]] in rows
    assert main not in written
