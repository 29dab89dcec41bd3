"""Pin unpinned requirements to the versions installed here.

Versions come from `importlib.metadata`, never from running `pip freeze`: it is fast,
works without pip, and reads the same environment the user's code ran in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from crunch_cli.requirements.model import Requirement


def installed_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def freeze(
    requirements: Iterable[Requirement],
    *,
    version_of: Callable[[str], str | None] = installed_version,
) -> list[Requirement]:
    """Each third-party requirement without a specifier gets `==<installed version>`.

    Requirements that carry a specifier keep it (the user chose it); those not installed
    here stay unpinned.
    """
    frozen = []
    for requirement in requirements:
        if not requirement.standard and not requirement.specifier:
            version = version_of(requirement.name)
            if version is not None:
                requirement = dataclasses.replace(requirement, specifier=f"=={version}")
        frozen.append(requirement)
    return frozen
