"""`crunch.external.humanfriendly`: sizes and durations in words (`format_size`, ...)."""

from __future__ import annotations

from crunch_cli.protocol.humanize import (
    coerce_boolean,
    concatenate,
    format_size,
    format_timespan,
    pluralize,
    round_number,
)

__all__ = [
    "coerce_boolean",
    "concatenate",
    "format_size",
    "format_timespan",
    "pluralize",
    "round_number",
]
