"""The helpers organizers word their messages with.

Every expected string below was observed from crunch-cli 13.0.1 (`crunch.unstructured.utils`,
`crunch.external.humanfriendly`) on the same inputs. Sets of small integers iterate in
numeric order, which keeps the set-based outputs deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from crunch.external import humanfriendly
from crunch.unstructured import File
from crunch.unstructured.utils import (
    delta_message,
    find_file_by_path,
    find_requirement_by_name,
    truncate,
)


@pytest.mark.parametrize(
    ("expected", "predicted", "message"),
    [
        ([1, 2, 3], [2, 3, 4], "missing [1] extras [4]"),
        (range(20), [], "missing [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, (...10)]"),
        ([], range(3), "extras [0, 1, 2]"),
        ([1], [1], ""),
        (
            range(15),
            range(5, 30),
            "missing [0, 1, 2, 3, 4] extras [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, (...5)]",
        ),
    ],
)
def test_delta_message(
    expected: range | list[int], predicted: range | list[int], message: str
) -> None:
    assert delta_message(expected, predicted) == message


@pytest.mark.parametrize(
    ("values", "max_size", "text"),
    [
        (list(range(12)), 10, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, (...2)"),
        ([1, 2, 3], 10, "1, 2, 3"),
        (["a"], 0, ", (...1)"),
        ([], 3, ""),
        (list("abcdef"), 2, "a, b, (...4)"),
        (set(range(11)), 10, "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, (...1)"),
    ],
)
def test_truncate(values: list[object] | set[int], max_size: int, text: str) -> None:
    assert truncate(values, max_size) == text


@dataclass
class _Requirement:
    name: str


def test_lookups_ignore_case() -> None:
    files = [File("a/Requirements.TXT", None, 3), File("b.txt", None, 1)]
    assert find_file_by_path(files, "a/requirements.txt") is files[0]
    assert find_file_by_path(files, "requirements.txt") is None

    requirements = [_Requirement("Pandas"), _Requirement("numpy")]
    assert find_requirement_by_name(requirements, "pandas") is requirements[0]
    assert find_requirement_by_name(requirements, "torch") is None


@pytest.mark.parametrize(
    ("size", "decimal", "binary", "kept_width"),
    [
        (0, "0 bytes", "0 bytes", "0 bytes"),
        (1, "1 byte", "1 byte", "1 byte"),
        (999, "999 bytes", "999 bytes", "999 bytes"),
        (1000, "1 KB", "1000 bytes", "1.00 KB"),
        (1024, "1.02 KB", "1 KiB", "1.02 KB"),
        (1_500_000, "1.5 MB", "1.43 MiB", "1.50 MB"),
        (123_456_789, "123.46 MB", "117.74 MiB", "123.46 MB"),
        (5 * 10**9, "5 GB", "4.66 GiB", "5.00 GB"),
        (2**40, "1.1 TB", "1 TiB", "1.10 TB"),
        (10**30, "1000000 YB", "827180.61 YiB", "1000000.00 YB"),
    ],
)
def test_format_size(size: int, decimal: str, binary: str, kept_width: str) -> None:
    assert humanfriendly.format_size(size) == decimal
    assert humanfriendly.format_size(size, binary=True) == binary
    assert humanfriendly.format_size(size, keep_width=True) == kept_width


@pytest.mark.parametrize(
    ("seconds", "short", "detailed"),
    [
        (0, "0 seconds", ""),
        (1.5, "1.5 seconds", "1 second and 500 milliseconds"),
        (59.99, "59.99 seconds", "59 seconds and 990 milliseconds"),
        (61, "1 minute and 1 second", "1 minute and 1 second"),
        (3661, "1 hour, 1 minute and 1 second", "1 hour, 1 minute and 1 second"),
        (86400 * 8 + 5, "1 week, 1 day and 5 seconds", "1 week, 1 day and 5 seconds"),
        (0.0001, "0 seconds", "100 microseconds"),
        (
            7322.5,
            "2 hours, 2 minutes and 2.5 seconds",
            "2 hours, 2 minutes, 2 seconds and 500 milliseconds",
        ),
    ],
)
def test_format_timespan(seconds: float, short: str, detailed: str) -> None:
    assert humanfriendly.format_timespan(seconds) == short
    assert humanfriendly.format_timespan(seconds, detailed=True) == detailed


def test_format_timespan_of_a_timedelta_and_fewer_units() -> None:
    assert humanfriendly.format_timespan(timedelta(minutes=2)) == "2 minutes"
    assert humanfriendly.format_timespan(3661, max_units=1) == "1 hour"


def test_coerce_boolean() -> None:
    assert [humanfriendly.coerce_boolean(v) for v in ["yes", " TRUE ", "On", "1"]] == [True] * 4
    assert [humanfriendly.coerce_boolean(v) for v in ["0", "", "off", "No"]] == [False] * 4
    assert humanfriendly.coerce_boolean(1) is True
    assert humanfriendly.coerce_boolean(None) is False
    with pytest.raises(ValueError, match="maybe"):
        humanfriendly.coerce_boolean("maybe")
