"""From imported modules to the text of `requirements.txt` (and its unfrozen original)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

from crunch_cli.requirements.format import format_requirements
from crunch_cli.requirements.freeze import freeze, installed_version
from crunch_cli.requirements.model import Requirement
from crunch_cli.requirements.resolve import resolve
from crunch_cli.requirements.whitelist import Whitelist

REQUIREMENTS_FILE = "requirements.txt"
ORIGINAL_REQUIREMENTS_FILE = "requirements.original.txt"
FROZEN_HEADER = "frozen from local site-packages"


@dataclasses.dataclass(frozen=True)
class RequirementsText:
    """`text` goes to requirements.txt; `original`, when freezing pinned anything, to
    requirements.original.txt so the user can see what they asked for."""

    text: str
    original: str | None
    requirements: list[Requirement]


def build_requirements(
    requirements: Iterable[Requirement],
    *,
    header: str,
    freeze_versions: bool = True,
    whitelist: Whitelist | None = None,
    installed: Mapping[str, Sequence[str]] | None = None,
    version_of: Callable[[str], str | None] = installed_version,
) -> RequirementsText:
    resolved = resolve(requirements, whitelist=whitelist, installed=installed)
    text = format_requirements(resolved, header=header)
    if not freeze_versions:
        return RequirementsText(text, None, resolved)
    frozen = freeze(resolved, version_of=version_of)
    if frozen == resolved:
        return RequirementsText(text, None, resolved)
    return RequirementsText(format_requirements(frozen, header=FROZEN_HEADER), text, frozen)
