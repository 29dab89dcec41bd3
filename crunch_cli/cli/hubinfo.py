"""`crunch ping` and `crunch list`: is the hub there, and what does it offer."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from crunch_cli.cli.state import State
from crunch_cli.errors import NotInWorkspaceError
from crunch_cli.workspace import Workspace


def _base_url(state: State) -> str:
    try:
        recorded = Workspace.find().config.api_base_url
    except NotInWorkspaceError:
        recorded = None
    return state.base_url(recorded)


def ping(ctx: typer.Context) -> None:
    """Check that the hub answers (exit 1 when it does not)."""
    from crunch_cli.api import HubClient

    base_url = _base_url(ctx.obj)
    started = time.perf_counter()
    HubClient(base_url, timeout=5).competitions()
    typer.echo(f"{base_url} answered in {(time.perf_counter() - started) * 1000:.0f} ms")


def list_competitions(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the hub's competitions."""
    from crunch_cli.api import HubClient

    competitions = HubClient(_base_url(ctx.obj)).competitions()
    if as_json:
        import json

        typer.echo(json.dumps(competitions, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "format", "status", "title", box=None)
    for competition in competitions:
        table.add_row(
            competition["name"],
            str(competition.get("format", "")),
            str(competition.get("status", "")),
            competition.get("displayName") or "",
        )
    Console().print(table)
