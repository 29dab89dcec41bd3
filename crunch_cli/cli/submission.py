"""`crunch submission list|show|checkout`: your pushed submissions."""

from typing import TYPE_CHECKING, Annotated

import typer

from crunch_cli.cli.output import (
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
from crunch_cli.cli.transfers import Downloads

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient


def _client(ctx: typer.Context) -> "ProjectClient":
    state: State = ctx.obj
    return state.workspace().client()


app = typer.Typer(
    name="submission", help="Your pushed submissions.", no_args_is_help=True, rich_markup_mode=None
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
    with Downloads() as progress:
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
