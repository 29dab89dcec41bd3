"""`crunch quickstarter list|show|apply`: the competition's starter code (crunch-cli 13's
commands)."""

from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.cli.output import (
    JsonOption,
    add_row,
    echo,
    human_size,
    print_json,
)
from crunch_cli.cli.state import State
from crunch_cli.cli.transfers import Downloads

app = typer.Typer(
    name="quickstarter",
    help="Starter code for the competition.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NameArgument = Annotated[str, typer.Argument(help="The quickstarter's name (see `list`).")]


def _type(quickstarter: dict[str, object]) -> str:
    return "notebook" if quickstarter.get("notebook") else "code"


@app.command("list")
def list_quickstarters(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List the competition's quickstarters."""
    state: State = ctx.obj
    client = state.workspace().client()
    quickstarters = client.quickstarters()
    if as_json:
        print_json(quickstarters)
        return
    if not quickstarters:
        echo("this competition has no quickstarters")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "title", "type", "language", box=None)
    for quickstarter in quickstarters:
        add_row(
            table,
            quickstarter.get("name"),
            quickstarter.get("title"),
            _type(quickstarter),
            str(quickstarter.get("language") or "").lower(),
        )
    Console().print(table)
    if not state.hide_tips:
        echo("Next: crunch quickstarter show NAME, or crunch quickstarter apply NAME")


@app.command("show")
def show(ctx: typer.Context, name: NameArgument, as_json: JsonOption = False) -> None:
    """Show a quickstarter and its files."""
    from crunch_cli.quickstarters import get

    state: State = ctx.obj
    client = state.workspace().client()
    quickstarter = get(client, name)
    if as_json:
        print_json(quickstarter)
        return
    echo(f"{quickstarter.get('name')}: {quickstarter.get('title')} ({_type(quickstarter)})")
    for author in quickstarter.get("authors") or []:
        echo(f"  by {author.get('name')}" + (f" ({author['link']})" if author.get("link") else ""))
    for file in quickstarter.get("files") or []:
        size = file.get("size")
        shown_size = human_size(size) if isinstance(size, int) and size >= 0 else "?"
        echo(f"  {shown_size:>9}  {file.get('name')}")


@app.command("apply")
def apply(
    ctx: typer.Context,
    name: NameArgument,
    directory: Annotated[
        Path | None, typer.Argument(help="Where to write its files (default: the workspace).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files that are already there.")
    ] = False,
) -> None:
    """Write a quickstarter's files into the workspace."""
    from crunch_cli.quickstarters import apply as apply_quickstarter

    state: State = ctx.obj
    settings = state.workspace()
    with Downloads() as progress:
        applied = apply_quickstarter(
            settings.client(),
            name,
            directory or settings.workspace.root,
            overwrite=overwrite,
            progress=progress,
        )
    echo(f"quickstarter {name}: wrote {', '.join(applied.written)} in {applied.directory}")
    if not state.hide_tips:
        main = next((file for file in applied.written if file.endswith(".ipynb")), None)
        if applied.notebook and main:
            echo(f"Next: open {main}, or turn it into a script with `crunch convert {main}`")
        else:
            echo("Next: crunch test")
