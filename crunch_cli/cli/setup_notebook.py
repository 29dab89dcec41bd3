"""`crunch setup-notebook`: the notebook's own folder set up as a workspace, again at each run."""

from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.setup_options import (
    TOKEN_VARIABLE,
    ModelDirectoryOption,
    NoDataOption,
    NoModelOption,
    SizeOption,
    SubmissionOption,
    check_submission,
    set_up,
)
from crunch_cli.cli.state import State
from crunch_cli.workspace import DEFAULT_MODEL_DIRECTORY


def setup_notebook(
    ctx: typer.Context,
    competition: Annotated[str, typer.Argument(help="Competition name.")],
    token: Annotated[
        str | None,
        typer.Argument(
            envvar=TOKEN_VARIABLE,
            show_envvar=True,
            help="One-time setup token from the competition page; `-` reads it from standard "
            "input (asked for, hidden, on a terminal).",
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Argument(help="Your project name (default: the one the token is for)."),
    ] = None,
    no_data: NoDataOption = False,
    submission: SubmissionOption = "latest",
    no_model: NoModelOption = False,
    model_directory: ModelDirectoryOption = DEFAULT_MODEL_DIRECTORY,
    size: SizeOption = "default",
) -> None:
    """Set up the notebook's folder (the current one) as a workspace, keeping its files:
    for a notebook (Colab, Kaggle, Jupyter) that runs `!crunch setup-notebook` each time."""
    state: State = ctx.obj
    set_up(
        state,
        token,
        competition=competition,
        project=project,
        directory=Path.cwd(),
        in_place=True,
        with_data=not no_data,
        model_directory=model_directory,
        size_variant=size,
        include_model=not no_model,
        submission=check_submission(submission),
    )
    if not state.hide_tips:
        echo(
            "Next, in the notebook: `crunch = crunch.load_notebook()`, your cells, "
            '`crunch.test()`, then `crunch.submit("message")`'
        )
