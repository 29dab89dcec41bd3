"""`crunch setup-command`: a one-time `crunch setup` line for this workspace's project."""

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State


def setup_command(ctx: typer.Context) -> None:
    """Print a one-time `crunch setup` command for this project, to set it up on another
    machine (or to hand to a teammate you trust with it)."""
    from crunch_cli.setup_project import setup_command as make_setup_command

    state: State = ctx.obj
    line, valid_until = make_setup_command(state.workspace().client())
    typer.echo(line)  # the one line meant to carry a token: not masked
    echo(
        f"It works once, until {valid_until:%Y-%m-%d %H:%M:%S} UTC; "
        "whoever runs it gets a token of this project.",
        err=True,
    )
