"""One way to write sizes, durations and moments, whichever command prints them."""

from __future__ import annotations

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
