"""Turn what the code imports into what pip must install."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from crunch_cli.requirements.model import Requirement
from crunch_cli.requirements.names import is_standard, module_to_distribution
from crunch_cli.requirements.whitelist import Whitelist


def resolve(
    requirements: Iterable[Requirement],
    *,
    whitelist: Whitelist | None = None,
    installed: Mapping[str, Sequence[str]] | None = None,
) -> list[Requirement]:
    """Give every requirement its distribution name and standard-library flag.

    An explicit name (from the import comment or a requirements file) is kept as written
    unless the whitelist knows it under another spelling. Specifiers on standard-library
    modules are dropped: there is nothing to install.
    """
    resolved = []
    for requirement in requirements:
        library = None
        if whitelist is not None:
            if requirement.explicit:
                library = whitelist.by_name(requirement.name)
            elif requirement.module is not None:
                library = whitelist.by_module(requirement.module)
        if library is not None:
            name, standard = library["name"], bool(library.get("standard"))
        elif requirement.explicit:
            name, standard = requirement.name, False
        else:
            module = requirement.module or requirement.name
            name, standard = (
                module_to_distribution(module, installed=installed),
                is_standard(module),
            )
        resolved.append(
            dataclasses.replace(
                requirement,
                name=name,
                explicit=True,
                standard=standard,
                extras=() if standard else requirement.extras,
                specifier="" if standard else requirement.specifier,
            )
        )
    return resolved
