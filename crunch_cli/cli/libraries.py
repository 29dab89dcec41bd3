"""Checks that `crunch test`, `crunch download` and `crunch push --dry` run before anything
else: the library whitelist, and crunch-cli's --round-number.

crunch-cli 13.0.1 checks requirements.txt during `crunch test`, so that a library the hub
would refuse shows up before the code is pushed. Both checks are advice given ahead of time:
when the hub cannot be reached they are skipped with a warning, since the push checks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from crunch_cli.cli.output import echo
from crunch_cli.errors import HubUnreachableError, WorkspaceError

if TYPE_CHECKING:
    from crunch_cli.environments import WorkspaceSettings
    from crunch_cli.requirements import Requirement

CHECK_TIMEOUT_S = 5.0


def forbidden_libraries(settings: WorkspaceSettings, requirements: list[Requirement]) -> list[str]:
    """The requirements the workspace's hub does not allow; none when it is unreachable."""
    from crunch_cli.push.submit import forbidden_libraries as check

    client = settings.public_client(timeout=CHECK_TIMEOUT_S, retries=0)
    try:
        return check(client, requirements)
    except HubUnreachableError as error:
        echo(f"warning: library check skipped: {error.message}", fg="yellow", err=True)
        return []


def warn_forbidden_requirements(settings: WorkspaceSettings) -> None:
    """One warning per library of requirements.txt the hub would refuse at push time."""
    from crunch_cli.requirements import REQUIREMENTS_FILE, parse_requirements_file

    path = settings.workspace.root / REQUIREMENTS_FILE
    if not path.is_file():
        return
    for name in forbidden_libraries(settings, parse_requirements_file(path.read_text())):
        echo(
            f"warning: {name} (requirements.txt) is not allowed on this competition: "
            "`crunch push` will refuse it",
            fg="yellow",
            err=True,
        )


def check_round(value: str) -> str:
    """crunch-cli's --round-number: @current, @last or a round number."""
    if value in ("@current", "@last") or value.isdigit():
        return value
    raise typer.BadParameter("@current, @last or a round number")


def require_current_round(settings: WorkspaceSettings, value: str) -> None:
    """The data of the current round is the only data there is to download or test on: a
    round number is accepted when it is that round's."""
    if not value.isdigit():
        return
    competition = settings.config.competition_name
    current = settings.public_client().current_round()["number"]
    if int(value) != current:
        raise WorkspaceError(
            f"round {value} has no data to use: only the current round of {competition}, "
            f"{current}, has",
            hint="leave out --round-number",
        )
