"""`crunch ping` and `crunch list`: is the hub there, and what does it offer."""

import time

import typer

from crunch_cli.cli.output import JsonOption, add_row, echo, print_json


def ping(ctx: typer.Context) -> None:
    """Check that the hub answers (exit 1 when it does not)."""
    from crunch_cli.api import HubClient

    base_url = ctx.obj.nearby_base_url()
    started = time.perf_counter()
    HubClient(base_url, timeout=5).competitions()
    echo(f"{base_url} answered in {(time.perf_counter() - started) * 1000:.0f} ms")


def list_competitions(
    ctx: typer.Context,
    as_json: JsonOption = False,
) -> None:
    """List the hub's competitions."""
    from crunch_cli.api import HubClient

    competitions = HubClient(ctx.obj.nearby_base_url()).competitions()
    if as_json:
        print_json(competitions)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "format", "status", "title", box=None)
    for competition in competitions:
        add_row(
            table,
            competition["name"],
            str(competition.get("format", "")),
            str(competition.get("status", "")),
            competition.get("displayName") or "",
        )
    Console().print(table)
