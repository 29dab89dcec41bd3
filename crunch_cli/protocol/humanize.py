"""Human-readable sizes and durations for organizers' messages.

crunch-cli 13.0.1 ships a few functions of the `humanfriendly` package as
`crunch.external.humanfriendly`, and submission modules use them to word their limits
("model files must not exceed 5 GB, got 6.2 GB"). These are written to give the same text;
the package itself is not a dependency (it is much larger than these few functions).

`size`, `duration` and `timestamp` are how crunch itself shows those values, in every
command and on the hub's website alike: binary units ("1.5 GiB"), durations in words ("2
minutes and 3 seconds", "0.82 seconds") and moments in UTC to the minute ("2024-05-01
13:07"), so that a limit reads the same wherever it is printed.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

__all__ = [
    "coerce_boolean",
    "concatenate",
    "duration",
    "format_size",
    "format_timespan",
    "pluralize",
    "round_number",
    "size",
    "timestamp",
]

# Largest first: the first unit not larger than the value is the one shown.
_DECIMAL_SIZES = [(1000**power, symbol) for power, symbol in enumerate("KMGTPEZY", 1)]
_BINARY_SIZES = [(1024**power, f"{symbol}i") for power, symbol in enumerate("KMGTPEZY", 1)]

# (length in seconds, singular, plural); a "year" is 52 weeks.
_TIME_UNITS = [
    (Decimal("1E-9"), "nanosecond", "nanoseconds"),
    (Decimal("0.000001"), "microsecond", "microseconds"),
    (Decimal("0.001"), "millisecond", "milliseconds"),
    (Decimal(1), "second", "seconds"),
    (Decimal(60), "minute", "minutes"),
    (Decimal(3600), "hour", "hours"),
    (Decimal(86400), "day", "days"),
    (Decimal(604800), "week", "weeks"),
    (Decimal(31449600), "year", "years"),
]


def round_number(count: float | Decimal, keep_width: bool = False) -> str:
    """Two decimals, trailing zeros (and a bare point) dropped unless `keep_width`."""
    text = f"{float(count):.2f}"
    if not keep_width:
        text = text.rstrip("0").rstrip(".")
    return text


def pluralize(count: int | float | str, singular: str, plural: str | None = None) -> str:
    """`"<count> <noun>"`, singular exactly when the count is one."""
    noun = singular if float(count) == 1 else (plural or f"{singular}s")
    return f"{count} {noun}"


def format_size(num_bytes: int, keep_width: bool = False, binary: bool = False) -> str:
    """A byte count in the largest unit it reaches: decimal units (KB = 1000 bytes) by
    default, binary ones (KiB = 1024 bytes) with `binary`."""
    units = _BINARY_SIZES if binary else _DECIMAL_SIZES
    for divider, prefix in reversed(units):
        if num_bytes >= divider:
            symbol = f"{prefix}B"
            return pluralize(round_number(float(num_bytes) / divider, keep_width), symbol, symbol)
    return pluralize(num_bytes, "byte")


def coerce_boolean(value: object) -> bool:
    """Read a yes/no setting: "1", "yes", "true", "on" and "0", "no", "false", "off", ""
    (any case, surrounding spaces ignored); any other text is an error, a non-text value is
    tested for truth."""
    if not isinstance(value, str):
        return bool(value)
    word = value.strip().lower()
    if word in ("1", "yes", "true", "on"):
        return True
    if word in ("0", "no", "false", "off", ""):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def concatenate(items: list[str], conjunction: str = "and", serial_comma: bool = False) -> str:
    """`"a, b and c"`; `serial_comma` gives `"a, b, and c"`."""
    if len(items) < 2:
        return items[0] if items else ""
    head = ", ".join(items[:-1]) + ("," if serial_comma else "")
    return f"{head} {conjunction} {items[-1]}"


def format_timespan(
    num_seconds: float | timedelta, detailed: bool = False, max_units: int = 3
) -> str:
    """A duration in words: "1 hour, 1 minute and 1 second". Below a minute it is a number
    of seconds with two decimals at most; `detailed` goes down to nanoseconds and keeps
    every unit, otherwise the `max_units` largest are kept."""
    if isinstance(num_seconds, timedelta):
        num_seconds = num_seconds.total_seconds()
    if not isinstance(num_seconds, int | float | Decimal):
        raise ValueError(f"not a number of seconds: {num_seconds!r}")
    if num_seconds < 60 and not detailed:
        return pluralize(round_number(num_seconds), "second")

    units = _TIME_UNITS if detailed else _TIME_UNITS[3:]
    remaining = Decimal(str(num_seconds))
    parts: list[str] = []
    for index, (length, singular, plural) in enumerate(reversed(units)):
        amount = remaining / length
        remaining %= length
        # Whole units, except the smallest, which keeps up to two decimals.
        count = str(int(amount)) if index < len(units) - 1 else round_number(amount)
        if count != "0":
            parts.append(pluralize(count, singular, plural))
    if len(parts) == 1:
        return parts[0]
    return concatenate(parts if detailed else parts[:max_units])


def size(num_bytes: float) -> str:
    """A size as crunch shows it: binary units, as memory limits are counted ("1.5 GiB")."""
    return format_size(int(num_bytes), binary=True)


def duration(seconds: float | timedelta) -> str:
    """A duration as crunch shows it: "2 minutes and 3 seconds", "0.82 seconds"."""
    return format_timespan(max(0.0, float(_seconds(seconds))))


def timestamp(moment: datetime | str | float) -> str:
    """A moment as crunch shows it: UTC, to the minute ("2024-05-01 13:07").

    A hub sends ISO text, with or without an offset; one without is UTC (the hub stores
    UTC), as is a naive datetime. A number is a Unix time. Text that is not a date is
    shown as it came rather than hidden.
    """
    if isinstance(moment, datetime):
        when = moment
    elif isinstance(moment, str):
        try:
            when = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
        except ValueError:
            return moment
    else:
        when = datetime.fromtimestamp(float(moment), tz=timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else value
