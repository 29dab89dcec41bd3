"""The libraries a submission may require: the shipped list (`libraries.json`), every
standard-library module (`standard: true`), and an organizer's additions in
`<root>/libraries.json` (same shape as the shipped file).

Matching follows the public client: names are compared case-insensitively, aliases (the
import name, like `sklearn` for scikit-learn) match too, and `%` in a query is a wildcard.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from crunch_cli.errors import CrunchError

PYTHON = "PYTHON"
DEFAULT_GPU_REQUIREMENT = "OPTIONAL"


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


def _pattern(query: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in query.split("%"))
    return re.compile(".*".join(parts), re.IGNORECASE)


def search(
    libraries: Iterable[Library],
    *,
    name: str | None = None,
    language: str | None = None,
    standard: bool | None = None,
    gpu_requirement: str | None = None,
) -> list[Library]:
    pattern = _pattern(name) if name else None
    return [
        library
        for library in libraries
        if (language is None or library.language == language.upper())
        and (standard is None or library.standard == standard)
        and (gpu_requirement is None or library.gpu_requirement == gpu_requirement.upper())
        and (pattern is None or any(pattern.fullmatch(value) for value in library.names()))
    ]
