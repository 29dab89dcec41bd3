"""The libraries a submission may require: the shipped list (`libraries.json`), every
standard-library module (`standard: true`), and an organizer's additions in
`<root>/libraries.json` (same shape as the shipped file), which approving a library request
extends.

Matching follows the public client: names are compared case-insensitively, aliases (the
import name, like `sklearn` for scikit-learn) match too, and `%` in a query is a wildcard.
A query is matched piece by piece with plain substring searches, never as a regular
expression, so its cost grows with its length, whatever `%`s it holds.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import json
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from crunch_cli.errors import CrunchError

PYTHON = "PYTHON"
DEFAULT_GPU_REQUIREMENT = "OPTIONAL"
WILDCARD = "%"
MAX_QUERY_LENGTH = 200
EXTRA_FILE = "libraries.json"


@dataclasses.dataclass(frozen=True)
class Library:
    id: int
    name: str
    language: str
    standard: bool
    gpu_requirement: str
    aliases: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "standard": self.standard,
            "gpuRequirement": self.gpu_requirement,
            "aliases": list(self.aliases),
            "freeze": not self.standard,
        }

    def names(self) -> Iterable[str]:
        yield self.name
        yield from self.aliases


def load(extra: Path | None = None) -> list[Library]:
    """The whole whitelist, ids stable for a given shipped list and extension file."""
    entries = list(_shipped())
    if extra is not None and extra.is_file():
        entries += _parse(extra.read_text(), str(extra))
    libraries = [
        Library(
            id=index,
            name=entry["name"],
            language=entry.get("language", PYTHON).upper(),
            standard=False,
            gpu_requirement=entry.get("gpuRequirement", DEFAULT_GPU_REQUIREMENT),
            aliases=tuple(entry.get("aliases", ())),
        )
        for index, entry in enumerate(entries, start=1)
    ]
    first_standard = len(libraries) + 1
    libraries += [
        Library(first_standard + offset, module, PYTHON, True, DEFAULT_GPU_REQUIREMENT, ())
        for offset, module in enumerate(sorted(sys.stdlib_module_names))
        if not module.startswith("_")
    ]
    return libraries


@functools.cache
def _shipped() -> tuple[dict[str, Any], ...]:
    text = resources.files(__package__).joinpath("libraries.json").read_text()
    return tuple(_parse(text, "the shipped libraries.json"))


def _parse(text: str, origin: str) -> list[dict[str, Any]]:
    try:
        entries = json.loads(text)
        if not isinstance(entries, list) or not all(
            isinstance(entry, dict) and isinstance(entry.get("name"), str) for entry in entries
        ):
            raise ValueError("expected a list of objects with a 'name'")
    except ValueError as error:
        raise CrunchError(
            f"{origin} is not a valid library list: {error}",
            hint='write it as [{"name": "...", "aliases": ["..."]}, ...]',
        ) from error
    return entries


def matches(query: str, value: str) -> bool:
    """Whether `value` is `query`, ignoring case, where each `%` stands for any text.

    The first piece must start the value and the last end it; the ones between are
    looked for left to right, each after the previous one. The leftmost place of each
    piece is always as good as any later one, so there is nothing to backtrack.
    """
    query, value = query.casefold(), value.casefold()
    if WILDCARD not in query:
        return value == query
    first, *middle, last = query.split(WILDCARD)
    if len(first) + len(last) > len(value) or not (
        value.startswith(first) and value.endswith(last)
    ):
        return False
    position, end = len(first), len(value) - len(last)
    for piece in middle:
        found = value.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def search(
    libraries: Iterable[Library],
    *,
    name: str | None = None,
    language: str | None = None,
    standard: bool | None = None,
    gpu_requirement: str | None = None,
) -> list[Library]:
    return [
        library
        for library in libraries
        if (language is None or library.language == language.upper())
        and (standard is None or library.standard == standard)
        and (gpu_requirement is None or library.gpu_requirement == gpu_requirement.upper())
        and (not name or any(matches(name, value) for value in library.names()))
    ]


class LiveWhitelist:
    """The whitelist as the running hub serves it: read again whenever the organizer's
    file changed (`crunch hub whitelist approve` writes it from another process), so an
    approved library is allowed at once, without a restart.
    """

    def __init__(self, extra: Path) -> None:
        self.extra = extra
        self._lock = threading.Lock()
        self._stamp = _stamp(extra)
        self._libraries = load(extra)

    def __iter__(self) -> Iterator[Library]:
        stamp = _stamp(self.extra)
        with self._lock:
            if stamp != self._stamp:
                self._libraries, self._stamp = load(self.extra), stamp
            libraries = self._libraries
        return iter(libraries)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


def add_library(
    extra: Path,
    name: str,
    *,
    aliases: Iterable[str] = (),
    gpu_requirement: str = DEFAULT_GPU_REQUIREMENT,
    language: str = PYTHON,
) -> None:
    """Add `name` to the organizer's file (a library already there gains the aliases).

    The file is rewritten whole under a lock and renamed into place, so a hub reading it
    meanwhile sees the old list or the new one, never half of one.
    """
    with open(extra.with_name(extra.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = _parse(extra.read_text(), str(extra)) if extra.is_file() else []
        entry = next((item for item in entries if item["name"].casefold() == name.casefold()), None)
        if entry is None:
            entry = {"name": name, "language": language, "gpuRequirement": gpu_requirement}
            entries.append(entry)
        known = {value.casefold() for value in [entry["name"], *entry.get("aliases", ())]}
        added = [alias for alias in aliases if alias.casefold() not in known]
        if added:
            entry["aliases"] = [*entry.get("aliases", ()), *added]
        fd, temporary = tempfile.mkstemp(dir=extra.parent, prefix=f".{extra.name}.")
        try:
            with os.fdopen(fd, "w") as file:
                json.dump(entries, file, indent=2)
                file.write("\n")
            Path(temporary).replace(extra)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
