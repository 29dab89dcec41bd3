"""One requirement line, and how two mentions of the same module combine."""

from __future__ import annotations

import dataclasses

from crunch_cli.errors import RequirementsError


@dataclasses.dataclass(frozen=True)
class Requirement:
    """A distribution to install, possibly still known only by the module that imports it.

    `explicit` is False while `name` is just the import name: resolution (whitelist, the
    installed environment, the alias table) may still replace it with a distribution name.
    `specifier` is packaging's canonical text (`>=1.2,<2.0`), so equal sets compare equal.
    """

    name: str
    extras: tuple[str, ...] = ()
    specifier: str = ""
    module: str | None = None
    explicit: bool = True
    standard: bool = False

    def line(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"

    def __str__(self) -> str:
        return self.line()


def merge(first: Requirement, second: Requirement) -> Requirement:
    """Combine two mentions of one module: the more specific information wins.

    A bare `import pandas` and `import pandas  # == 1.3` give `pandas==1.3`; two different
    names, extras or specifiers are a mistake the user has to settle, so they raise.
    """
    clashes = []
    if first.explicit and second.explicit and not _same_name(first, second):
        clashes.append("names")
    if first.extras and second.extras and first.extras != second.extras:
        clashes.append("extras")
    if first.specifier and second.specifier and first.specifier != second.specifier:
        clashes.append("versions")
    if clashes:
        package = first.module or first.name
        raise RequirementsError(
            f"inconsistent {' and '.join(clashes)} for {package}: "
            f"`{first.line()}` and `{second.line()}`",
            hint=f"give every import of {package} the same version comment, or only one of them",
        )
    named = first if first.explicit else second
    return dataclasses.replace(
        first,
        name=named.name,
        explicit=first.explicit or second.explicit,
        extras=first.extras or second.extras,
        specifier=first.specifier or second.specifier,
    )


def _same_name(first: Requirement, second: Requirement) -> bool:
    from packaging.utils import canonicalize_name

    return canonicalize_name(first.name) == canonicalize_name(second.name)
