"""One way to write sizes, durations and moments, whichever command prints them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from crunch_cli.protocol import humanize


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KiB"),
        (8192 * 1024**2, "8 GiB"),
        (int(104.2 * 1024**2), "104.2 MiB"),
    ],
)
def test_sizes_are_in_binary_units(size, text):
    assert humanize.size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.82, "0.82 seconds"),
        (1, "1 second"),
        (123, "2 minutes and 3 seconds"),
        (3600, "1 hour"),
        (timedelta(minutes=90), "1 hour and 30 minutes"),
        (-0.001, "0 seconds"),
    ],
)
def test_durations_are_in_words(seconds, text):
    assert humanize.duration(seconds) == text


@pytest.mark.parametrize(
    "moment",
    [
        "2026-12-02T08:31:04.439242",
        "2026-12-02T08:31:59Z",
        "2026-12-02T10:31:00+02:00",
        datetime(2026, 12, 2, 8, 31),
        datetime(2026, 12, 2, 9, 31, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 2, 8, 31, tzinfo=timezone.utc).timestamp(),
    ],
)
def test_moments_are_utc_to_the_minute(moment):
    assert humanize.timestamp(moment) == "2026-12-02 08:31"


def test_a_moment_that_is_not_a_date_is_shown_as_it_came():
    assert humanize.timestamp("yesterday") == "yesterday"


CRASHING = """\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    raise ValueError("no model yet")
"""


def _told_once(output: str) -> None:
    """The user's traceback once, then one error line and its hint, nothing repeated."""
    lines = output.splitlines()
    assert output.count("Traceback (most recent call last):") == 1, output
    assert output.count("ValueError: no model yet") == 2, output  # traceback, error line
    assert [line for line in lines if line.startswith("error:")] == [
        "error: run 1 failed: error (infer() raised ValueError: no model yet)"
    ]
    assert "the run failed" not in output
    assert lines[-1].startswith("hint: ")


def test_a_failed_hub_run_is_told_once_by_push_wait_logs_and_show(workspace, crunch):
    (workspace / "main.py").write_text(CRASHING)
    (workspace / "requirements.txt").write_text("pandas\n")

    pushed = crunch("push", "--wait")
    logs = crunch("run", "logs", "1")
    shown = crunch("run", "show", "1")
    waited = crunch("run", "wait", "1")

    assert pushed.exit_code == 1
    _told_once(pushed.stderr)
    assert "run 1 failed" not in pushed.stdout
    assert pushed.stderr.splitlines()[-1] == (
        "hint: fix the error shown above; `crunch test` runs your code the same way on your machine"
    )
    assert logs.exit_code == 0
    _told_once(logs.stderr)
    assert shown.exit_code == 0
    assert "  result      error" in shown.stdout
    assert shown.stderr.splitlines() == [
        "error: run 1 failed: error (infer() raised ValueError: no model yet)",
        "hint: `crunch run logs 1` shows why",
    ]
    assert re.search(r"^  started     \d{4}-\d\d-\d\d \d\d:\d\d$", shown.stdout, re.MULTILINE)
    assert re.search(r"^  duration    [\d.]+ seconds$", shown.stdout, re.MULTILINE)
    assert waited.exit_code == 1
    assert waited.stdout == ""
    assert waited.stderr.splitlines()[0].startswith("error: run 1 failed: error (infer()")
