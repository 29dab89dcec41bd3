"""`crunch.unstructured.utils`: helpers for organizers' checks and messages."""

from __future__ import annotations

from crunch_cli.protocol.text import (
    delta_message,
    find_file_by_path,
    find_requirement_by_name,
    truncate,
)
from crunch_cli.protocol.types import group_metrics_by_target

__all__ = [
    "delta_message",
    "find_file_by_path",
    "find_requirement_by_name",
    "group_metrics_by_target",
    "truncate",
]
