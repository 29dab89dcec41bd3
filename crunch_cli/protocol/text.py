"""Small helpers organizers use to write checks and messages for participants.

Their outputs end up verbatim in messages participants read ("missing [3, 7] extras [12]"),
so their format is part of the protocol: lists are cut after a few items so that a prediction
missing a million ids still gives a one-line message.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol, TypeVar

__all__ = ["delta_message", "find_file_by_path", "find_requirement_by_name", "truncate"]


def truncate(values: Collection[Any], max_size: int = 10) -> str:
    """The first `max_size` values joined with ", ", then ", (...N)" for the N left out.

    Sets come out in their iteration order, as they would be printed.
    """
    shown = list(values)
    hidden = len(shown) - max_size
    text = ", ".join(str(value) for value in shown[:max_size])
    if hidden > 0:
        text += f", (...{hidden})"
    return text


def delta_message(expected: Iterable[Any], predicted: Iterable[Any]) -> str:
    """How `predicted` differs from `expected` as sets: "" when they are equal, else
    "missing [...]" and/or "extras [...]" (each list truncated)."""
    wanted = set(expected)
    given = set(predicted)
    parts: list[str] = []
    if missing := wanted - given:
        parts.append(f"missing [{truncate(missing)}]")
    if extras := given - wanted:
        parts.append(f"extras [{truncate(extras)}]")
    return " ".join(parts)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Pathed(Protocol):
    @property
    def path(self) -> str: ...


_N = TypeVar("_N", bound=_Named)
_F = TypeVar("_F", bound=_Pathed)


def find_requirement_by_name(requirements: Sequence[_N], name: str) -> _N | None:
    """The first requirement called `name`, ignoring case (`Pandas` is `pandas`)."""
    wanted = name.casefold()
    return next((item for item in requirements if item.name.casefold() == wanted), None)


def find_file_by_path(files: Sequence[_F], path: str) -> _F | None:
    """The first file at `path`, ignoring case (`Requirements.txt` is `requirements.txt`)."""
    wanted = path.casefold()
    return next((item for item in files if item.path.casefold() == wanted), None)
