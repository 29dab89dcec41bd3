"""`crunch setup`, `crunch init`, `crunch setup-notebook`, `crunch download`,
`crunch update-token`, `crunch setup-command`."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from crunch_cli.cli.libraries import check_round, require_current_round
from crunch_cli.cli.output import DownloadProgress, echo, print_skipped
from crunch_cli.cli.state import State
from crunch_cli.errors import WorkspaceError
from crunch_cli.workspace import DEFAULT_MODEL_DIRECTORY

if TYPE_CHECKING:
    from crunch_cli.setup_project import SetupResult

TOKEN_VARIABLE = "CRUNCH_SETUP_TOKEN"
DIRECTORY_PATTERN = "{competitionName}-{projectName}"
SIZES = ("default", "small", "large")


def _check_size(value: str | None) -> str | None:
    if value is not None and value.lower() not in SIZES:
        raise typer.BadParameter("choose default, small or large")
    return value.lower() if value else value


DirectoryArgument = Annotated[
    str,
    typer.Argument(help="Folder to create; {competitionName} and {projectName} are filled in."),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_VARIABLE,
        show_envvar=True,
        help="One-time setup token from the competition page; `-` reads it from standard "
        "input (asked for, hidden, on a terminal), which keeps it off the command line.",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", "-f", help="Set up inside a non-empty folder; the files there are kept."
    ),
]
NoDataOption = Annotated[bool, typer.Option("--no-data", help="Do not download the data.")]
SubmissionOption = Annotated[
    str,
    typer.Option(
        "--submission",
        metavar="latest|scratch|N",
        help="The submission to restore: your last, none (scratch), or number N.",
    ),
]
NoModelOption = Annotated[
    bool, typer.Option("--no-model", help="Do not restore the submission's model files.")
]
ModelDirectoryOption = Annotated[
    str, typer.Option("--model-directory", help="Where your model files live.")
]
SizeOption = Annotated[
    str, typer.Option("--size", callback=_check_size, help="default, small or large.")
]


def _check_submission(value: str) -> int | Literal["latest"] | None:
    """crunch-cli's --submission: latest, scratch (restore nothing) or a number."""
    if value == "latest":
        return "latest"
    if value == "scratch":
        return None
    if value.isdigit():
        return int(value)
    raise typer.BadParameter("latest, scratch or a submission number", param_hint="--submission")


def _directory(pattern: str, competition: str, project: str) -> Path:
    """DIRECTORY with crunch-cli's placeholders filled in."""
    return Path(
        os.path.normpath(
            pattern.replace("{competitionName}", competition).replace("{projectName}", project)
        )
    )


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
    restore = _check_submission(submission)
    with DownloadProgress() as progress:
        result = setup_project(
            competition=competition,
            project=project,
            token=_read_token(token),
            base_url=state.settings.base_url(),
            directory=_directory(directory, competition, project),
            force=force,
            with_data=not no_data,
            model_directory=model_directory,
            size_variant=size,
            include_model=include_model or not no_model,
            submission=restore,
            progress=progress,
            competitions_source=state.settings.competitions_source,
        )
    where = _report(result)
    if not state.hide_tips:
        echo(f"Next: cd {where} && crunch test")


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
    from crunch_cli.setup_project import setup_project

    state: State = ctx.obj
    with DownloadProgress() as progress:
        result = setup_project(
            competition=competition,
            project=project,
            token=_read_token(token),
            base_url=state.settings.base_url(),
            directory=_directory(directory, competition, project),
            force=force,
            with_data=not no_data,
            model_directory=model_directory,
            submission=None,
            progress=progress,
            competitions_source=state.settings.competitions_source,
        )
    where = _report(result)
    if not state.hide_tips:
        echo(f"Next: write your code in {where}/main.py, then run crunch test there")


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
    from crunch_cli.setup_project import setup_project

    state: State = ctx.obj
    restore = _check_submission(submission)
    with DownloadProgress() as progress:
        result = setup_project(
            competition=competition,
            project=project,
            token=_read_token(token),
            base_url=state.settings.base_url(),
            directory=Path.cwd(),
            in_place=True,
            with_data=not no_data,
            model_directory=model_directory,
            size_variant=size,
            include_model=not no_model,
            submission=restore,
            progress=progress,
            competitions_source=state.settings.competitions_source,
        )
    _report(result)
    if not state.hide_tips:
        echo(
            "Next, in the notebook: `crunch = crunch.load_notebook()`, your cells, "
            '`crunch.test()`, then `crunch.submit("message")`'
        )


def _report(result: "SetupResult") -> str:
    """Say what a setup restored and where the workspace is (returned, as the user
    would type it); a failed data download fails the command, workspace and all kept."""
    where = _relative(result.workspace.root)
    if result.data_error is not None:
        error = result.data_error
        raise WorkspaceError(
            f"workspace ready in {where}, but the data download failed: {error.message}",
            hint=f"cd {where} && crunch download   (it resumes where it stopped)",
        )
    restored = result.restored
    if restored is not None:
        count = len(restored.written) + len(restored.unchanged)
        echo(f"Restored {count} files of your last submission")
        if restored.kept:
            echo("Kept your local version of: " + ", ".join(restored.kept))
        print_skipped(restored.skipped)
    echo(f"Workspace ready in {where}")
    return where


def download(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even files that are up to date.")
    ] = False,
    size: Annotated[
        str | None,
        typer.Option(
            "--size-variant", "--size", callback=_check_size, help="default, small or large."
        ),
    ] = None,
    round_number: Annotated[
        str,
        typer.Option(
            "--round-number",
            callback=check_round,
            help="@current, @last or N: the hub serves the current round's data only.",
        ),
    ] = "@current",
) -> None:
    """Download (or bring up to date) the competition data into data/."""
    from crunch_cli.download import Outcome, download_data

    state: State = ctx.obj
    settings = state.workspace()
    require_current_round(settings, round_number)
    workspace = settings.workspace
    with DownloadProgress() as progress:
        outcomes = download_data(
            settings.client(),
            workspace,
            size_variant=size,
            force=force,
            progress=progress,
            competitions_source=settings.competitions_source,
        )
    fresh = sum(outcome is not Outcome.UP_TO_DATE for outcome in outcomes.values())
    echo(
        f"{len(outcomes)} data files in {_relative(workspace.data_dir)}"
        f" ({fresh} downloaded, {len(outcomes) - fresh} already up to date)"
    )


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
    renew_token(settings, _read_token(token))
    echo(f"Token updated in {_relative(settings.workspace.metadata_dir)}")


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


def _read_token(value: str | None) -> str:
    """The setup token from `--token`, the environment, or standard input for `-`."""
    if value is None:
        raise WorkspaceError(
            "no setup token given",
            hint=f"pass --token - and paste it when asked, or set {TOKEN_VARIABLE}",
        )
    if value != "-":
        return value.strip()
    if sys.stdin.isatty():
        return str(typer.prompt("Setup token", hide_input=True)).strip()
    line = sys.stdin.readline().strip()
    if not line:
        raise WorkspaceError(
            "--token - found no token on standard input",
            hint=f"pipe it in (`echo TOKEN | crunch ... --token -`), or set {TOKEN_VARIABLE}",
        )
    return line


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)
