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
    read_token,
    report_setup,
)
from crunch_cli.cli.state import State
from crunch_cli.cli.transfers import Downloads
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
    from crunch_cli.setup_project import setup_project

    state: State = ctx.obj
    restore = check_submission(submission)
    with Downloads() as progress:
        result = setup_project(
            competition=competition,
            project=project,
            token=read_token(token),
            base_url=state.settings.base_url(),
            directory=directory_for(directory, competition, project),
            force=force,
            with_data=not no_data,
            model_directory=model_directory,
            size_variant=size,
            include_model=include_model or not no_model,
            submission=restore,
            progress=progress,
            competitions_source=state.settings.competitions_source,
        )
    where = report_setup(result)
    if not state.hide_tips:
        echo(f"Next: cd {where} && crunch test")
