"""What `crunch setup`, `crunch init` and `crunch setup-notebook` share: their arguments and
options, how a setup token is read (`crunch update-token` reads its own the same way), and how
a finished setup is reported."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from crunch_cli.cli.output import echo, print_skipped, relative_path
from crunch_cli.errors import WorkspaceError

if TYPE_CHECKING:
    from crunch_cli.cli.state import State
    from crunch_cli.setup_project import SetupResult

TOKEN_VARIABLE = "CRUNCH_SETUP_TOKEN"
DIRECTORY_PATTERN = "{competitionName}-{projectName}"
SIZES = ("default", "small", "large")


def check_size(value: str | None) -> str | None:
    """crunch-cli's size variants, in any case; the hub's are lower case here."""
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
    str, typer.Option("--size", callback=check_size, help="default, small or large.")
]


def check_submission(value: str) -> int | Literal["latest"] | None:
    """crunch-cli's --submission: latest, scratch (restore nothing) or a number."""
    if value == "latest":
        return "latest"
    if value == "scratch":
        return None
    if value.isdigit():
        return int(value)
    raise typer.BadParameter("latest, scratch or a submission number", param_hint="--submission")


def directory_for(pattern: str, competition: str, project: str) -> Path:
    """DIRECTORY with crunch-cli's placeholders filled in."""
    return Path(
        os.path.normpath(
            pattern.replace("{competitionName}", competition).replace("{projectName}", project)
        )
    )


def set_up(state: "State", token: str | None, **options: Any) -> str:
    """`setup_project` with the command's hub, modules source, token and download bars,
    then its report: what setup, init and setup-notebook share. Returns the workspace's
    path as the user would type it."""
    from crunch_cli.cli.transfers import Downloads
    from crunch_cli.setup_project import setup_project

    with Downloads() as progress:
        result = setup_project(
            token=read_token(token),
            base_url=state.settings.base_url(),
            competitions_source=state.settings.competitions_source,
            progress=progress,
            **options,
        )
    return report_setup(result)


def report_setup(result: "SetupResult") -> str:
    """Say what a setup restored and where the workspace is (returned, as the user
    would type it); a failed data download fails the command, workspace and all kept."""
    where = relative_path(result.workspace.root)
    if result.data_error is not None:
        from crunch_cli.download import MissingSizeVariantError

        error = result.data_error
        if isinstance(error, MissingSizeVariantError):
            again = f"crunch download --size {error.available[0]}"
        else:
            again = "crunch download   (it resumes where it stopped)"
        raise WorkspaceError(
            f"workspace ready in {where}, but the data download failed: {error.message}",
            hint=f"cd {where} && {again}",
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


def read_token(value: str | None) -> str:
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
