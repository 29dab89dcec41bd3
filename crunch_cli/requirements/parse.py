"""Read requirements: `requirements.txt` lines and the version comments of import lines.

Both go through `packaging` (PEP 508), so `import pandas  # == 1.3` and a `pandas==1.3`
line mean exactly the same thing. URLs, markers and pip flags are refused: the platform
installs from its own index, for one interpreter.
"""

from __future__ import annotations

import dataclasses
import re

from crunch_cli.errors import RequirementsError
from crunch_cli.requirements.model import Requirement

LATEST = "@latest"
IGNORE = "@ignore"

# An optional distribution name, then the first character of a requirement tail: `==`,
# `>=`, `~=`, `!=`, `<`, `[extras]` or `@latest`/`@ignore`. Anything else (`# the best
# lib`, `#, Series`, `# x > 0 here`: one-letter words are not names) is an ordinary comment.
_SPECIFIER_START = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9._-]*[A-Za-z0-9])?\s*[@\[<>=~!]")

# Stands in for the distribution name when the comment gives none, so that packaging can
# parse a bare `== 1.3`; only the extras and specifiers of the result are used.
_PLACEHOLDER = "x__module__x"

_HINT = "write it like `pandas==2.2`, `scikit-learn>=1.2,<2` or `tqdm[notebook]`"


@dataclasses.dataclass(frozen=True)
class ImportComment:
    """What the trailing comment of an import line asks for."""

    name: str | None = None
    extras: tuple[str, ...] = ()
    specifier: str = ""
    ignore: bool = False


def parse_requirement(text: str) -> Requirement:
    """Parse one PEP 508 requirement (`name[extras] specifiers`) or raise RequirementsError."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508

    try:
        parsed = Pep508(text)
    except InvalidRequirement as error:
        raise RequirementsError(
            f"cannot parse requirement `{text}`: {str(error).splitlines()[0]}", hint=_HINT
        ) from None
    if parsed.url:
        raise RequirementsError(
            f"`{text}`: URLs are not allowed in requirements",
            hint="name a released version instead, like `name==1.0`",
        )
    if parsed.marker:
        raise RequirementsError(
            f"`{text}`: environment markers are not allowed in requirements",
            hint="remove everything from the `;` on: submissions run on one interpreter",
        )
    return Requirement(
        name=parsed.name,
        extras=tuple(sorted(extra.lower() for extra in parsed.extras)),
        specifier=str(parsed.specifier),
    )


def parse_requirements_file(text: str) -> list[Requirement]:
    """Requirements of a `requirements.txt`, in file order; comments and blanks skipped."""
    requirements = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            raise RequirementsError(
                f"requirements.txt line {number}: pip options like `{line.split()[0]}` "
                "are not allowed",
                hint="list one distribution per line, like `pandas==2.2`",
            )
        try:
            requirements.append(parse_requirement(line))
        except RequirementsError as error:
            raise RequirementsError(
                f"requirements.txt line {number}: {error.message}", hint=error.hint
            ) from None
    return requirements


def parse_import_comment(comment: str) -> ImportComment | None:
    """The requirement an import's trailing comment asks for, or None for a plain comment.

    `comment` is the comment text with or without its leading `#`.
    """
    text = comment.strip().lstrip("#").strip()
    match = _SPECIFIER_START.match(text)
    if match is None:
        return None
    name = match.group("name")
    tail = text[match.end() - 1 :].split("#", 1)[0].strip()
    if tail == IGNORE:
        return ImportComment(ignore=True)
    if tail == LATEST:
        return ImportComment(name=name)
    try:
        parsed = parse_requirement(f"{name or _PLACEHOLDER} {tail}")
    except RequirementsError as error:
        # Say it with the user's words, not with the placeholder name.
        problem = error.message.split(": ", 1)[1] if ": " in error.message else error.message
        raise RequirementsError(
            f"cannot parse the version comment `# {text}`: {problem}",
            hint="write it like `# == 2.2`, `# >= 1.2, < 2`, `# [extras]`, `# @latest` or "
            "`# @ignore`",
        ) from None
    return ImportComment(name=name, extras=parsed.extras, specifier=parsed.specifier)
