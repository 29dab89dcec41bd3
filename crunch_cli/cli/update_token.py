"""`crunch update-token`: a fresh project token for this workspace, from a setup token."""

import sys
from typing import Annotated

import typer

from crunch_cli.cli.output import echo, relative_path
from crunch_cli.cli.setup_options import TOKEN_VARIABLE, TokenOption, read_token
from crunch_cli.cli.state import State
from crunch_cli.errors import WorkspaceError


def update_token(
    ctx: typer.Context,
    token_argument: Annotated[
        str | None,
        typer.Argument(
            metavar="[TOKEN]",
            help="The setup token, as crunch-cli 13 takes it; --token is the same.",
            show_default=False,
        ),
    ] = None,
    token: TokenOption = None,
) -> None:
    """Replace this workspace's project token, using a fresh one-time setup token."""
    from crunch_cli.setup_project import renew_token

    state: State = ctx.obj
    settings = state.workspace()
    renew_token(settings, read_token(_token(token_argument, token)))
    echo(f"Token updated in {relative_path(settings.workspace.metadata_dir)}")


def _token(argument: str | None, option: str | None) -> str:
    """The token given, once; with none, ask for it on a terminal, and say how to give it
    anywhere else (nothing is read from a standard input the user did not point at)."""
    if argument is not None and option is not None:
        raise typer.BadParameter("give the token once: TOKEN or --token", param_hint="--token")
    given = option if option is not None else argument
    if given is not None:
        return given
    if sys.stdin.isatty():
        return "-"  # asked for, hidden
    raise WorkspaceError(
        "no setup token given, and no terminal to ask for it",
        hint="pass it as `--token TOKEN`, or `--token -` with the token on standard input "
        f"(`echo TOKEN | crunch update-token --token -`); {TOKEN_VARIABLE} works too",
    )
