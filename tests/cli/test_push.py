"""`crunch push`, `crunch submission ...`, `crunch whitelist ...` against a real hub."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from hub_state import confirmed_chunks, received_bytes, upload_statuses

MAIN = """\
import pandas


def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=0.0)
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def submission(crunch, number: str = "@last") -> dict:
    result = crunch("submission", "show", number, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def pushed_paths(crunch) -> set[str]:
    return {file["name"] for file in submission(crunch)["files"]}


def test_push_sends_code_and_model_and_prints_the_number(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": b"m"})

    result = crunch("push", "-m", "first try")

    assert result.exit_code == 0, result.output
    assert "Submission #1 created" in result.stdout
    shown = submission(crunch)
    assert shown["number"] == 1
    assert shown["message"] == "first try"
    assert {"main.py", "requirements.txt", "resources/model.bin"} <= pushed_paths(crunch)


def test_push_follows_gitignore_rules_for_code_and_model_files(workspace, crunch):
    write(
        workspace,
        {
            "main.py": MAIN,
            "requirements.txt": "pandas\n",
            ".gitignore": "*.log\n!keep.log\nscratch/\nresources/\n",
            "debug.log": "x",
            "keep.log": "x",
            "scratch/big.csv": "x",
            "lib/helpers.py": "x = 1\n",
            "lib/.gitignore": "generated_*.py\n!generated_ok.py\n",
            "lib/generated_a.py": "x",
            "lib/generated_ok.py": "x",
            "notes/.env": "SECRET=1",
            "notes/cache/__pycache__/m.pyc": b"x",
            "myenv/pyvenv.cfg": "home = /usr/bin\n",
            "myenv/lib/python3.11/site-packages/pkg.py": "x = 1\n",
            "resources/model.bin": b"weights",
            "resources/.gitignore": "*.tmp\ncheckpoints/\n",
            "resources/partial.tmp": b"x",
            "resources/checkpoints/epoch1.bin": b"x",
            "resources/sub/encoder.bin": b"x",
        },
    )

    result = crunch("push", "-m", "rules")

    assert result.exit_code == 0, result.output
    assert pushed_paths(crunch) == {
        ".gitignore",
        "keep.log",
        "lib/.gitignore",
        "lib/generated_ok.py",
        "lib/helpers.py",
        "main.py",
        "requirements.txt",
        "requirements.original.txt",
        "resources/.gitignore",
        "resources/model.bin",
        "resources/sub/encoder.bin",
    }


def test_push_refuses_a_symlink_leaving_the_workspace(workspace, crunch, tmp_path):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})
    (tmp_path / "outside.txt").write_text("secret")
    (workspace / "link.txt").symlink_to(tmp_path / "outside.txt")

    result = crunch("push", "--dry")

    assert result.exit_code == 1
    assert f"error: link.txt is a symlink to {tmp_path / 'outside.txt'}, outside the workspace" in (
        result.stderr
    )


def test_push_of_a_notebook_only_workspace_sends_a_converted_main_py(workspace, crunch):
    cells = [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": source,
        }
        for source in (
            "%pip install pandas\nimport pandas",
            "def train(X_train, model_directory_path):\n    pass",
            "def infer(X_test):\n    return X_test",
            "train(None, 'resources')",
        )
    ]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for index, cell in enumerate(cells):
        cell["id"] = f"c{index}"
    (workspace / "main.ipynb").write_text(json.dumps(notebook))
    before = sorted(path.name for path in workspace.iterdir())

    result = crunch("push", "-m", "from a notebook")

    assert result.exit_code == 0, result.output
    assert "main.ipynb converted to main.py" in result.stderr
    assert sorted(path.name for path in workspace.iterdir()) == before
    assert submission(crunch)["type"] == "NOTEBOOK"
    paths = pushed_paths(crunch)
    assert "main.py" in paths
    assert "main.ipynb" not in paths
    checkout = crunch("submission", "checkout", "1", "main.py")
    assert checkout.exit_code == 0, checkout.output
    script = (workspace / "main.py").read_text()
    assert "#train(None, 'resources')" in script
    assert "def infer(X_test):" in script


def test_push_names_a_missing_entry_point(workspace, crunch):
    write(
        workspace,
        {"main.py": "def train():\n    pass\n\nif True:\n    def infer():\n        pass\n"},
    )

    result = crunch("push")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "error: main.py does not define infer() (line 5 defines it, but not at the top level)"
    )


def test_push_freezes_requirements_and_keeps_the_original(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\nrequests>=2\n"})

    result = crunch("push")

    assert result.exit_code == 0, result.output
    assert (workspace / "requirements.txt").read_text() == "pandas\nrequests>=2\n"
    checkout = crunch(
        "submission", "checkout", "1", "requirements.txt", "requirements.original.txt", "--force"
    )
    assert checkout.exit_code == 0, checkout.output
    frozen = (workspace / "requirements.txt").read_text()
    assert f"pandas=={version('pandas')}" in frozen.splitlines()
    assert "requests>=2" in frozen.splitlines()
    assert (workspace / "requirements.original.txt").read_text() == "pandas\nrequests>=2\n"


def test_push_without_requirements_generates_them_from_the_imports(workspace, crunch):
    write(workspace, {"main.py": "import os\nimport sklearn\n" + MAIN})

    result = crunch("push", "--no-pip-freeze", "--dry")

    assert result.exit_code == 0, result.output
    assert "no requirements.txt: generated one from the imports" in result.stderr
    assert not (workspace / "requirements.txt").exists()


def test_push_refuses_a_forbidden_library_before_uploading_anything(workspace, hub, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\nleft-pad-deluxe\n"})

    result = crunch("push")

    assert result.exit_code == 1
    assert "error: not allowed on this competition: left-pad-deluxe" in result.stderr
    assert "crunch whitelist search" in result.stderr
    assert upload_statuses(hub) == []


def test_push_refuses_a_message_over_1000_characters(workspace, hub, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})

    result = crunch("push", "-m", "x" * 1001)

    assert result.exit_code == 1
    assert "the limit is 1,000" in result.stderr
    assert upload_statuses(hub) == []


def test_second_push_of_an_unchanged_model_sends_no_model_bytes(workspace, hub, crunch):
    model = os.urandom(100 * 1000 * 1000)
    write(
        workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": model}
    )
    first = crunch("push", "-m", "one")
    assert first.exit_code == 0, first.output
    after_first = received_bytes(hub)
    assert after_first >= len(model)
    write(workspace, {"main.py": MAIN + "\n# tweak\n"})

    second = crunch("push", "-m", "two")

    assert second.exit_code == 0, second.output
    assert "Submission #2 created" in second.stdout
    assert "model.bin (100.0 MB): unchanged, not sent" in second.stderr
    assert received_bytes(hub) - after_first == len((MAIN + "\n# tweak\n").encode())


def test_a_killed_push_resumes_and_sends_only_the_missing_chunks(
    workspace, hub, dropping_proxy, crunch
):
    proxy = dropping_proxy(hold_puts_after=3 + 2)  # the code files, then 2 model chunks
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})
    assert crunch("--api-base-url", proxy.url, "push", "-m", "code only").exit_code == 0
    assert proxy.puts == 3
    model = os.urandom(5_000_000)
    write(workspace, {"resources/model.bin": model})
    before = received_bytes(hub)
    command = [sys.executable, "-m", "crunch_cli", "--api-base-url", proxy.url]
    child = subprocess.Popen(
        [*command, "push", "-m", "x", "--chunk-size", "1000000"],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while confirmed_chunks(hub) < 3 + 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert received_bytes(hub) - before == 2_000_000

    proxy.hold_puts_after = None
    result = crunch("--api-base-url", proxy.url, "push", "-m", "again", "--chunk-size", "1000000")

    assert result.exit_code == 0, result.output
    assert "model.bin: resuming at 2.0 MB" in result.stderr
    assert received_bytes(hub) - before == len(model)
    assert "Submission #2 created" in result.stdout


def test_ctrl_c_stops_a_push_within_a_second_and_the_next_push_resumes(
    workspace, hub, dropping_proxy, crunch
):
    proxy = dropping_proxy(hold_puts_after=3 + 2)  # the code files, then 2 model chunks
    model = os.urandom(5_000_000)
    write(
        workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": model}
    )
    command = [sys.executable, "-m", "crunch_cli", "--api-base-url", proxy.url]
    child = subprocess.Popen(
        [*command, "push", "-m", "x", "--chunk-size", "1000000"],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        # Five chunks confirmed, the sixth held by the proxy.
        while (proxy.puts <= 3 + 2 or confirmed_chunks(hub) < 3 + 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        interrupted = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)
        stopped = time.monotonic() - interrupted
    finally:
        child.kill()

    assert child.returncode == 130
    assert child.stderr is not None and child.stderr.read().strip().endswith("interrupted")
    assert stopped < 1.0
    proxy.hold_puts_after = None
    result = crunch("--api-base-url", proxy.url, "push", "-m", "again", "--chunk-size", "1000000")

    assert result.exit_code == 0, result.output
    # Which chunks got through before the held one depends on the order of the uploads.
    assert re.search(r"model\.bin: resuming at [1-5]\.0 MB", result.stderr), result.stderr
    assert "Submission #1 created" in result.stdout


def test_dry_run_lists_the_bundle_with_the_hub_stopped(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": b"m"})
    project = workspace / ".crunchdao" / "project.json"
    config = json.loads(project.read_text())
    project.write_text(json.dumps({**config, "apiBaseUrl": "http://127.0.0.1:9"}))

    result = crunch("push", "--dry")

    assert result.exit_code == 0, result.output
    assert "main.py" in result.stdout
    assert "resources/model.bin" in result.stdout
    assert "files: code" in result.stdout


def test_export_twice_gives_identical_zips(workspace, crunch, tmp_path):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": b"m"})

    first = crunch("push", "--export", str(tmp_path / "one.zip"))
    os.utime(workspace / "main.py", (0, 0))
    second = crunch("push", "--export", str(tmp_path / "two.zip"))
    refused = crunch("push", "--export", str(tmp_path / "two.zip"))

    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert names == [*sorted(names[:-1]), "manifest.json"]
    assert "resources/model.bin" in names
    assert manifest["mainFilePath"] == "main.py"
    assert refused.exit_code == 1
    assert "already exists" in refused.stderr


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"max_code_size": 10}, "SUBMISSION_TOO_BIG"),
        ({"max_model_size": 0}, "MODEL_TOO_BIG"),
        ({"submissions_per_day": 0}, "DAILY_SUBMISSION_LIMIT_EXCEEDED"),
    ],
)
def test_every_hub_limit_is_a_clear_error_and_leaves_no_upload_behind(
    workspace, hub, crunch, limits, expected
):
    from crunch_cli.api.client import hint_for

    hub.set_limits("demo-timeseries", **limits)
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "resources/model.bin": b"m"})

    result = crunch("push")

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith("error: ")
    assert lines[-1] == f"hint: {hint_for(expected)}"
    assert "Traceback" not in result.output
    assert upload_statuses(hub) == []


def test_setup_of_a_second_workspace_restores_the_pushed_files(workspace, hub, crunch, tmp_path):
    files = {
        "main.py": MAIN,
        "requirements.txt": "pandas\n",
        "lib/util.py": "VALUE = 1\n",
        "resources/model.bin": os.urandom(300_000),
    }
    write(workspace, files)
    assert crunch("push", "-m", "to restore").exit_code == 0
    token = hub.mint_token("demo-timeseries", "alice", "alpha")
    os.chdir(tmp_path)

    result = crunch(
        "--api-base-url",
        hub.url,
        "setup",
        "demo-timeseries",
        "alpha",
        "second",
        "--token",
        token,
        "--include-model",
        "--no-data",
    )

    assert result.exit_code == 0, result.output
    assert "Restored" in result.stdout
    second = tmp_path / "second"
    for name in ("main.py", "lib/util.py", "resources/model.bin"):
        assert sha256(second / name) == sha256(workspace / name), name


def test_checkout_never_replaces_a_changed_file_without_force(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})
    assert crunch("push").exit_code == 0
    (workspace / "main.py").write_text("# my new idea\n")

    refused = crunch("submission", "checkout", "1")
    forced = crunch("submission", "checkout", "1", "main.py", "--force")

    assert refused.exit_code == 1
    assert "these files differ from the submission: main.py" in refused.stderr
    assert forced.exit_code == 0, forced.output
    assert (workspace / "main.py").read_text() == MAIN


def test_checkout_says_downloaded_only_for_the_files_it_writes(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n", "lib/util.py": "X = 1\n"})
    assert crunch("push", "--no-pip-freeze").exit_code == 0
    (workspace / "lib" / "util.py").unlink()
    (workspace / "requirements.txt").write_text("pandas  # mine\n")

    refused = crunch("submission", "checkout", "1")
    assert not (workspace / "lib" / "util.py").exists()
    restored = crunch("submission", "checkout", "1", "main.py", "lib/util.py")

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: these files differ from the submission: requirements.txt",
        "hint: pass --force to replace them, or name the files to check out",
    ]
    assert restored.exit_code == 0, restored.output
    assert restored.stderr.splitlines() == [
        "lib/util.py (6 B): downloaded",
        f"main.py ({len(MAIN)} B): up to date",
    ]
    assert "Submission #1: 1 files written, 1 already identical" in restored.stdout


def test_submission_list_shows_every_push(workspace, crunch):
    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})
    assert crunch("push", "-m", "one").exit_code == 0
    write(workspace, {"main.py": MAIN + "# two\n"})
    assert crunch("push", "-m", "two").exit_code == 0

    listed = json.loads(crunch("submission", "list", "--json").stdout)

    assert [(item["number"], item["message"]) for item in listed] == [(2, "two"), (1, "one")]


def test_whitelist_search_finds_aliases_and_validate_flags_unknown_names(hub, crunch, tmp_path):
    found = crunch("--api-base-url", hub.url, "whitelist", "search", "sklearn")
    (tmp_path / "requirements.txt").write_text("pandas\nnot-on-the-list\n")
    validated = crunch("--api-base-url", hub.url, "whitelist", "validate")

    assert found.exit_code == 0, found.output
    assert "scikit-learn" in found.stdout
    assert validated.exit_code == 1
    assert "requirements.txt: not allowed on this competition: not-on-the-list" in (
        validated.stderr
    )


def test_a_refusal_at_submission_time_discards_this_push_uploads(workspace, hub):
    from crunch_cli.environments import Settings
    from crunch_cli.errors import ApiError
    from crunch_cli.push.bundle import build_bundle
    from crunch_cli.push.submit import submit
    from crunch_cli.push.upload import CACHE_FILE, UploadCache
    from crunch_cli.workspace import Workspace

    class LimitDropsMidPush:
        """Another push used the last slot of the day while this one was uploading."""

        def start(self, blob, already):
            hub.set_limits("demo-timeseries", submissions_per_day=0)

        def advance(self, blob, amount):
            pass

        def finish(self, blob, sent):
            pass

    write(workspace, {"main.py": MAIN, "requirements.txt": "pandas\n"})
    local = Workspace(workspace)
    cache = UploadCache(local.metadata_dir / CACHE_FILE)
    bundle = build_bundle(local, cache=cache)
    client = Settings().workspace(local).client()

    with pytest.raises(ApiError) as refused:
        submit(client, local, bundle, cache, progress=LimitDropsMidPush())

    assert refused.value.code == "DAILY_SUBMISSION_LIMIT_EXCEEDED"
    assert upload_statuses(hub) == []
    assert json.loads((local.metadata_dir / CACHE_FILE).read_text())["entries"] == []
