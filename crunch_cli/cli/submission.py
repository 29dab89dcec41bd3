"""`crunch submission list|show|checkout` and `crunch whitelist search|validate|request`."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crunch_cli.cli.output import (
    DownloadProgress,
    JsonOption,
    LimitOption,
    ShowAllOption,
    add_row,
    echo,
    human_size,
    limited,
    print_json,
    print_skipped,
    submission_selector,
)
from crunch_cli.cli.state import State

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient


def _client(ctx: typer.Context) -> "ProjectClient":
    state: State = ctx.obj
    return state.workspace().client()


app = typer.Typer(
    name="submission", help="Your pushed submissions.", no_args_is_help=True, rich_markup_mode=None
)
whitelist_app = typer.Typer(
    name="whitelist",
    help="The libraries a submission may use.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("list")
def list_submissions(
    ctx: typer.Context,
    limit: LimitOption = 10,
    show_all: ShowAllOption = False,
    as_json: JsonOption = False,
) -> None:
    """List your submissions, newest first."""
    client = _client(ctx)
    submissions = client.submissions()
    submissions = sorted(submissions, key=lambda submission: submission["number"], reverse=True)
    submissions = limited(submissions, None if show_all else limit, "submissions")
    if as_json:
        print_json(submissions)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "created", "type", "size", "message", box=None)
    for submission in submissions:
        add_row(
            table,
            str(submission["number"]),
            str(submission.get("createdAt", ""))[:19].replace("T", " "),
            str(submission.get("type", "")),
            human_size(submission.get("totalSize") or 0),
            submission.get("message") or "",
        )
    Console().print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Submission number, or @last.")] = "@last",
    as_json: JsonOption = False,
) -> None:
    """Show one submission and its files."""
    client = _client(ctx)
    submission = client.submission(submission_selector(number))
    files = client.submission_files(submission["number"])
    if as_json:
        print_json({**submission, "files": files})
        return
    echo(f"Submission #{submission['number']} ({submission.get('type', '')})")
    echo(f"  created   {submission.get('createdAt', '')}")
    echo(f"  message   {submission.get('message') or ''}")
    echo(f"  main file {submission.get('mainFilePath', '')}")
    for file in files:
        echo(f"  {human_size(file.get('size') or 0):>9}  {file['name']}")


@app.command("checkout")
def checkout(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Submission number, or @last.")],
    files: Annotated[
        list[str] | None, typer.Argument(help="Only these files (paths as pushed).")
    ] = None,
    include_model: Annotated[
        bool, typer.Option("--include-model", help="Also restore the model files.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace local files that differ.")
    ] = False,
) -> None:
    """Restore a submission's files into this workspace (never touches data/ or .crunchdao/)."""
    from crunch_cli.submissions import checkout as checkout_files

    state: State = ctx.obj
    settings = state.workspace()
    client = settings.client()
    resolved = submission_selector(number)
    if resolved == "@last":
        resolved = client.submission("@last")["number"]
    with DownloadProgress() as progress:
        result = checkout_files(
            client,
            settings.workspace,
            number=int(resolved),
            paths=files or None,
            include_model=include_model,
            force=force,
            progress=progress,
        )
    print_skipped(result.skipped)
    echo(
        f"Submission #{resolved}: {len(result.written)} files written, "
        f"{len(result.unchanged)} already identical"
    )


def _check_language(value: str) -> str:
    """crunch-cli 13 knows Python and R; the hub's whitelist holds Python libraries only."""
    if value.upper() != "PYTHON":
        raise typer.BadParameter(f"{value!r}: the whitelist holds Python libraries only")
    return "PYTHON"


LanguageOption = Annotated[
    str,
    typer.Option(
        "--language",
        metavar="python",
        callback=_check_language,
        help="The libraries' language: python, the only one.",
    ),
]


@whitelist_app.command("search")
def search(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name or alias; % or * is a wildcard.")],
    language: LanguageOption = "PYTHON",
    limit: LimitOption = 10,
    show_all: ShowAllOption = False,
    as_json: JsonOption = False,
) -> None:
    """Search the hub's library whitelist."""
    state: State = ctx.obj
    found = state.settings.hub().libraries(name.replace("*", "%"), language=language)
    libraries = limited(found, None if show_all else limit, "libraries")
    if as_json:
        print_json(libraries)
        return
    if not libraries:
        echo(f"no whitelisted library matches {name!r}")
        raise typer.Exit(1)
    for library in libraries:
        aliases = ", ".join(library.get("aliases") or [])
        standard = " (standard library)" if library.get("standard") else ""
        echo(f"{library['name']}{standard}" + (f"  aliases: {aliases}" if aliases else ""))


@whitelist_app.command("validate")
def validate(
    ctx: typer.Context,
    requirements: Annotated[Path, typer.Argument(help="A requirements.txt to check.")] = Path(
        "requirements.txt"
    ),
    language: LanguageOption = "PYTHON",
) -> None:
    """Check a requirements.txt against the whitelist (exit 1 if anything is not allowed)."""
    from crunch_cli.push.submit import forbidden_libraries
    from crunch_cli.requirements import parse_requirements_file

    state: State = ctx.obj
    client = state.settings.hub()
    path = requirements if requirements.is_absolute() else Path.cwd() / requirements
    try:
        text = path.read_text()
    except OSError as error:
        raise typer.BadParameter(f"cannot read {requirements}: {error.strerror}") from None
    parsed = parse_requirements_file(text)
    forbidden = forbidden_libraries(client, parsed)
    if forbidden:
        for name in forbidden:
            echo(f"not allowed: {name}", err=True)
        raise typer.Exit(1)
    echo(f"all {len(parsed)} requirements are allowed")


def _check_gpu(value: str) -> str:
    from crunch_cli.library_requests import GPU_REQUIREMENTS

    if value not in GPU_REQUIREMENTS:
        raise typer.BadParameter(f"{value!r}: choose one of {', '.join(GPU_REQUIREMENTS)}")
    return value


@whitelist_app.command("request")
def request(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="The library's name on PyPI.")] = None,
    alias: Annotated[
        str | None, typer.Option("--alias", help="The name you import, when it differs.")
    ] = None,
    language: LanguageOption = "PYTHON",
    gpu: Annotated[
        str,
        typer.Option(
            "--gpu",
            metavar="[unknown|useless|useful|required]",
            callback=_check_gpu,
            help="Whether it needs a GPU.",
        ),
    ] = "unknown",
    additional_details: Annotated[
        str | None,
        typer.Option("--additional-details", help="Why you need it, for the organizer."),
    ] = None,
) -> None:
    """Ask the organizer to whitelist a library."""
    from crunch_cli.library_requests import request_library

    if not name and not alias:
        raise typer.BadParameter("give --name, --alias or both", param_hint="--name")
    state: State = ctx.obj
    created = request_library(
        state.workspace().client(),
        name=name,
        alias=alias,
        language=language,
        gpu=gpu,
        additional_details=additional_details,
    )
    reason = created.get("verdictReason")
    echo(
        f"library request #{created.get('id')} for {created.get('name') or created.get('alias')}: "
        f"{str(created.get('verdict', '')).lower()}" + (f" ({reason})" if reason else "")
    )
    if not state.hide_tips and created.get("verdict") == "PENDING":
        echo("Next: the organizer reviews it; `crunch whitelist search NAME` shows it once allowed")
