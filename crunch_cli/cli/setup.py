"""`crunch setup`: a workspace from a one-time setup token, with the data and your last push."""

from typing import Annotated

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.setup_options import (
    DIRECTORY_PATTERN,
    DirectoryArgument,
    ForceOption,
    ModelDirectoryOption,
    NoDataOption,
    NoModelOption,
    SizeOption,
    SubmissionOption,
    TokenOption,
    check_submission,
    directory_for,
    set_up,
)
from crunch_cli.cli.state import State
from crunch_cli.workspace import DEFAULT_MODEL_DIRECTORY


def setup(
    ctx: typer.Context,
    competition: Annotated[str, typer.Argument(help="Competition name.")],
    project: Annotated[str, typer.Argument(help="Your project name.")],
    directory: DirectoryArgument = DIRECTORY_PATTERN,
    token: TokenOption = None,
    no_data: NoDataOption = False,
    submission: SubmissionOption = "latest",
    no_model: NoModelOption = False,
    force: ForceOption = False,
    model_directory: ModelDirectoryOption = DEFAULT_MODEL_DIRECTORY,
    size: SizeOption = "default",
    include_model: Annotated[
        bool,
        typer.Option("--include-model", help="Restore model files too (the default already)."),
    ] = False,
) -> None:
    """Create a workspace from a one-time setup token and download the data."""
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
        size_variant=size,
        include_model=include_model or not no_model,
        submission=check_submission(submission),
    )
    if not state.hide_tips:
        echo(f"Next: cd {where} && crunch test")
