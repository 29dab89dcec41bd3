"""`crunch ping`: is the hub there, and how long does it take to answer."""

import time

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State


def ping(ctx: typer.Context) -> None:
    """Check that the hub answers (exit 1 when it does not)."""
    state: State = ctx.obj
    client = state.settings.hub(timeout=5)
    started = time.perf_counter()
    client.competitions()
    echo(f"{client.base_url} answered in {(time.perf_counter() - started) * 1000:.0f} ms")
