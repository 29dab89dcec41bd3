"""`crunch init`: crunch-cli 13's name for a `setup` that restores no submission."""

from typing import Annotated

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.setup_options import (
    DIRECTORY_PATTERN,
    DirectoryArgument,
    ForceOption,
    ModelDirectoryOption,
    NoDataOption,
    TokenOption,
    directory_for,
    set_up,
)
from crunch_cli.cli.state import State
from crunch_cli.workspace import DEFAULT_MODEL_DIRECTORY


def init(
    ctx: typer.Context,
    competition: Annotated[str, typer.Argument(help="Competition name.")],
    project: Annotated[str, typer.Argument(help="Your project name.")],
    directory: DirectoryArgument = DIRECTORY_PATTERN,
    token: TokenOption = None,
    no_data: NoDataOption = False,
    force: ForceOption = False,
    model_directory: ModelDirectoryOption = DEFAULT_MODEL_DIRECTORY,
) -> None:
    """Create an empty workspace from a one-time setup token: `setup` without restoring
    a submission."""
    state: State = ctx.obj
    where = set_up(
        state,
        token,
        competition=competition,
        project=project,
        directory=directory_for(directory, competition, project),
        force=force,
        with_data=not no_data,
        model_directory=model_directory,
        submission=None,
    )
    if not state.hide_tips:
        echo(f"Next: write your code in {where}/main.py, then run crunch test there")
