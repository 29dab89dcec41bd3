"""The client against a hostile hub (tests/security/hostile_hub.py): names that climb out of
their folder, absolute paths, control characters, bodies longer than announced, wrong sha256,
escape sequences and echoed tokens. Nothing may be written outside the workspace, nothing
secret printed, and each case is one clear error.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_hub import COMPETITION, PROJECT, PROJECT_TOKEN, SETUP_TOKEN, HostileHub, start

ECHOED_TOKEN = "Zr8Kq2Lm5Np7Wx1Yb4Vc6Dt9Fg3Hj0Sa-Ue_Io"
ESCAPES = "\x1b]2;pwned\x07\x1b[2J\x1b[31m\u202e"


@pytest.fixture
def hostile() -> Iterator[HostileHub]:
    hub = HostileHub()
    server, _ = start(hub)
    yield hub
    server.shutdown()
    server.server_close()


@pytest.fixture
def victim(hostile, crunch, monkeypatch, tmp_path) -> Path:
    """A workspace set up against the hostile hub, without data; the current folder."""
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", SETUP_TOKEN)
    result = crunch("--api-base-url", hostile.url, "setup", COMPETITION, PROJECT, "--no-data")
    assert result.exit_code == 0, result.output
    root = tmp_path / f"{COMPETITION}-{PROJECT}"
    monkeypatch.chdir(root)
    return root


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def assert_one_error(stderr: str, message: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("error: ") and message in lines[0], stderr
    assert lines[1].startswith("hint: "), stderr
    assert "\x1b" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../../x.parquet", "it climbs out of its folder"),
        ("ok/../../../x.parquet", "it climbs out of its folder"),
        ("/tmp/crunch-hostile-absolute.parquet", "an absolute path"),
        ("C:\\x.parquet", "control, bidirectional or backslash characters"),
        ("a\x00b.parquet", "control, bidirectional or backslash characters"),
        ("\x1b]2;x\x07.parquet", "control, bidirectional or backslash characters"),
        ("tset\u202eparquet", "control, bidirectional or backslash characters"),
        ("x" * 300 + ".parquet", "a segment longer than 255 bytes"),
        ("a//b.parquet", "an empty or `.` path segment"),
    ],
)
def test_download_refuses_a_data_file_name_that_leaves_data_and_writes_nothing(
    hostile, victim, crunch, tmp_path, name, problem
):
    hostile.add_data_file("X_train", "X_train.parquet", b"good bytes")
    hostile.add_data_file("evil", name, b"#!/bin/sh\necho owned\n")
    before = files_under(tmp_path.parent)

    result = crunch("download")

    assert result.exit_code == 1
    assert_one_error(result.stderr, "the hub sent an unsafe data file name ")
    assert f": {problem}" in result.stderr
    assert files_under(tmp_path.parent) == before
    assert not Path("/tmp/crunch-hostile-absolute.parquet").exists()
    assert hostile.ranges("X_train") == [], "nothing is fetched when one name is bad"


def test_download_cuts_off_a_body_longer_than_announced(hostile, victim, crunch):
    hostile.add_data_file("X_train", "X_train.parquet", b"0123456789", extra=300_000_000)

    result = crunch("download")

    assert result.exit_code == 1
    assert_one_error(
        result.stderr,
        "the hub sent more than the 10 bytes it announced for X_train.parquet; it was cut off",
    )
    assert files_under(victim / "data") == set()
    assert hostile.blobs["X_train"].sent < 50_000_000


def test_download_keeps_nothing_whose_sha256_differs(hostile, victim, crunch):
    hostile.add_data_file("X_train", "X_train.parquet", b"the real bytes")
    hostile.blobs["X_train"].content = b"other bytes!!!"

    result = crunch("download")

    assert result.exit_code == 1
    assert_one_error(result.stderr, "X_train.parquet arrived corrupted")
    assert files_under(victim / "data") == set()


def test_download_refuses_a_link_that_is_not_http(hostile, victim, crunch):
    hostile.data_files["X_train"] = {"name": "X_train.parquet", "url": "file:///etc/passwd"}

    result = crunch("download")

    assert result.exit_code == 1
    assert_one_error(result.stderr, "the hub sent no usable link for the data file")


def test_error_messages_from_a_hub_print_without_escape_sequences_or_tokens(
    hostile, victim, crunch
):
    hostile.errors[r".*/data-release"] = (
        400,
        {
            "code": "BAD_RELEASE",
            "message": f"{ESCAPES}release broken, token {PROJECT_TOKEN} or {ECHOED_TOKEN}",
        },
    )

    result = crunch("download")

    assert result.exit_code == 1
    assert result.stderr == "error: release broken, token <hidden> or <hidden>\n"
    for forbidden in ("pwned", "\x1b", "\x07", "\u202e", PROJECT_TOKEN, ECHOED_TOKEN):
        assert forbidden not in result.output


def test_run_logs_from_a_hub_print_without_escape_sequences_or_tokens(hostile, victim, crunch):
    hostile.logs = [
        {"id": 1, "content": f"{ESCAPES}epoch 1 loss 0.5"},
        {"id": 2, "content": f"leaked {ECHOED_TOKEN}\r\x1b[Afake line", "error": True},
    ]
    hostile.run = {
        "id": 1,
        "status": "COMPLETED",
        "success": False,
        "exitReason": "error",
        "errorMessage": f"{ESCAPES}it failed, {ECHOED_TOKEN}",
    }

    result = crunch("run", "logs", "1")

    assert result.exit_code == 0, result.output
    assert "epoch 1 loss 0.5" in result.stdout
    assert "leaked <hidden>" in result.stderr
    assert "it failed, <hidden>" in result.stderr
    for forbidden in ("\x1b", "\x07", "\r", "\u202e", ECHOED_TOKEN):
        assert forbidden not in result.output


def test_debug_traceback_masks_the_tokens_a_hub_echoes(hostile, victim):
    hostile.errors[r".*/data-release"] = (
        400,
        {"code": "BAD", "message": f"{ESCAPES}token {PROJECT_TOKEN} / {ECHOED_TOKEN}"},
    )

    result = subprocess.run(
        [sys.executable, "-m", "crunch_cli", "--debug", "download"],
        cwd=victim,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CRUNCH_API_BASE_URL": hostile.url},
    )

    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ApiError" in result.stderr
    for forbidden in ("\x1b", "\x07", PROJECT_TOKEN, ECHOED_TOKEN):
        assert forbidden not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "name",
    [
        "../escape.py",
        ".git/../../escape.py",
        "/tmp/crunch-hostile-escape.py",
        "a\x00b.py",
        "x" * 1100,
        "\u202eyp.txt",
    ],
)
def test_checkout_refuses_an_unsafe_name_and_writes_nothing(
    hostile, victim, crunch, tmp_path, name
):
    hostile.add_submission_file("main.py", b"def train(): pass\n")
    hostile.add_submission_file(name, b"import os; os.system('owned')\n")
    before = files_under(tmp_path.parent)

    result = crunch("submission", "checkout", "@last")

    assert result.exit_code == 1
    assert_one_error(result.stderr, "the hub sent an unsafe submission file name")
    assert files_under(tmp_path.parent) == before
    assert not Path("/tmp/crunch-hostile-escape.py").exists()


def test_checkout_leaves_out_files_that_could_run_code_or_touch_the_workspace(
    hostile, victim, crunch
):
    (victim / "myenv").mkdir()
    (victim / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    hostile.add_submission_file("main.py", b"def train(): pass\n")
    hostile.add_submission_file("lib/helpers.py", b"X = 1\n")
    hostile_files = {
        ".venv/lib/python3.11/site-packages/sitecustomize.py": "could run code or is a cache",
        "myenv/lib/python3.11/site-packages/evil.py": "could run code or is a cache",
        "myenv/bin/activate": "inside a virtual environment",
        ".git/hooks/pre-commit": "could run code or is a cache",
        "usercustomize.py": "could run code or is a cache",
        "lib/evil.pth": "could run code or is a cache",
        ".vscode/tasks.json": "could run code or is a cache",
        ".envrc": "could run code or is a cache",
        "__pycache__/main.cpython-311.pyc": "could run code or is a cache",
        ".ssh/id_rsa": "named like a secret",
        "data/X_train.parquet": "the workspace's own folder",
        ".crunchdao/token": "the workspace's own folder",
    }
    for name in hostile_files:
        hostile.add_submission_file(name, b"owned\n")

    result = crunch("submission", "checkout", "@last")

    assert result.exit_code == 0, result.output
    assert (victim / "main.py").read_bytes() == b"def train(): pass\n"
    assert (victim / "lib" / "helpers.py").read_bytes() == b"X = 1\n"
    for name, reason in hostile_files.items():
        assert f"not restored: {name} ({reason})" in result.stderr
        assert not (victim / name).exists() or (victim / name).read_bytes() != b"owned\n"
    assert "Submission #1: 2 files written" in result.stdout


def test_checkout_keeps_nothing_whose_sha256_differs(hostile, victim, crunch):
    hostile.add_submission_file("main.py", b"def train(): pass\n")
    hostile.add_submission_file(
        "model.py", b"tampered\n", sha256=hashlib.sha256(b"original\n").hexdigest()
    )

    result = crunch("submission", "checkout", "@last")

    assert result.exit_code == 1
    assert "model.py arrived corrupted" in result.stderr
    assert "nothing was written" in result.stderr
    assert not (victim / "main.py").exists()
    assert not (victim / "model.py").exists()


def test_checkout_does_not_write_through_a_symlink_out_of_the_workspace(
    hostile, victim, crunch, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    (victim / "lib").symlink_to(outside)
    hostile.add_submission_file("lib/helpers.py", b"import os\n")

    result = crunch("submission", "checkout", "@last")

    assert result.exit_code == 1
    assert_one_error(result.stderr, "would land outside")
    assert list(outside.iterdir()) == []


def test_ctrl_c_stops_a_download_within_a_second_and_the_next_one_resumes(hostile, victim):
    content = os.urandom(8_000_000)
    hostile.add_data_file("X_train", "X_train.parquet", content, rate=1_000_000)
    part = victim / "data" / ".X_train.parquet.part"
    env = {**os.environ, "CRUNCH_API_BASE_URL": hostile.url}
    command = [sys.executable, "-m", "crunch_cli", "download"]
    process = subprocess.Popen(command, cwd=victim, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (part.exists() and part.stat().st_size >= 1_000_000):
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.02)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        stopped = time.monotonic() - interrupted
    finally:
        process.kill()
    stderr = process.stderr.read() if process.stderr else ""

    assert process.returncode == 130, stderr
    assert stderr.strip().endswith("interrupted")
    assert stopped < 1.0
    kept = part.stat().st_size
    assert 1_000_000 <= kept < len(content)
    assert content.startswith(part.read_bytes())

    hostile.blobs["X_train"].rate = None
    resumed = subprocess.run(command, cwd=victim, env=env, capture_output=True, timeout=60)

    assert resumed.returncode == 0, resumed.stderr
    assert (victim / "data" / "X_train.parquet").read_bytes() == content
    assert hostile.ranges("X_train")[-1] == f"bytes={kept}-"
