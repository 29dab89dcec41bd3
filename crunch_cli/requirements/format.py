"""Write a `requirements.txt` that a person can read and pip can install.

    # extracted from a notebook

    ## third-party
    pandas==2.2
    scikit-learn  # alias of sklearn

    ## standard
    #os

Section titles appear only when both sections do; standard-library modules are listed
commented, so the file records them without pip trying to install them.
"""

from __future__ import annotations

from collections.abc import Iterable

from crunch_cli.requirements.model import Requirement


def format_requirements(requirements: Iterable[Requirement], *, header: str) -> str:
    third_party: list[str] = []
    standard: list[str] = []
    for requirement in requirements:
        if requirement.standard:
            standard.append(f"#{requirement.module or requirement.name}")
        else:
            third_party.append(requirement.line() + _alias_note(requirement))
    third_party.sort(key=str.lower)
    standard.sort(key=str.lower)

    text = f"# {header}\n"
    if third_party:
        text += (
            "\n"
            + ("## third-party\n" if standard else "")
            + "".join(f"{line}\n" for line in third_party)
        )
    if standard:
        text += (
            "\n"
            + ("## standard\n" if third_party else "")
            + "".join(f"{line}\n" for line in standard)
        )
    return text


def _alias_note(requirement: Requirement) -> str:
    from packaging.utils import canonicalize_name

    module = requirement.module
    if module is None or canonicalize_name(module) == canonicalize_name(requirement.name):
        return ""
    return f"  # alias of {module}"
