"""`crunch update-token`: a fresh project token for this workspace, from a setup token."""

from typing import Annotated

import typer

from crunch_cli.cli.output import echo, relative_path
from crunch_cli.cli.setup_options import TOKEN_VARIABLE, read_token
from crunch_cli.cli.state import State


def update_token(
    ctx: typer.Context,
    token: Annotated[
        str,
        typer.Argument(
            envvar=TOKEN_VARIABLE,
            show_envvar=True,
            help="A fresh setup token from the competition page; `-` (the default) reads it "
            "from standard input, asked for, hidden, on a terminal.",
        ),
    ] = "-",
) -> None:
    """Replace this workspace's project token, using a fresh one-time setup token."""
    from crunch_cli.setup_project import renew_token

    state: State = ctx.obj
    settings = state.workspace()
    renew_token(settings, read_token(token))
    echo(f"Token updated in {relative_path(settings.workspace.metadata_dir)}")
