"""`crunch runtime list`: the machines a run can ask for (crunch-cli 13's command)."""

from typing import Annotated, Any

import typer

from crunch_cli.cli.output import JsonOption, add_row, print_json
from crunch_cli.cli.state import State
from crunch_cli.errors import NotFoundError

app = typer.Typer(name="runtime", help="The runtimes a run can use.", no_args_is_help=True)


@app.command("list")
def list_runtimes(
    ctx: typer.Context,
    submission: Annotated[
        str, typer.Option("--submission", help="For this submission number (or @last).")
    ] = "@last",
    as_json: JsonOption = False,
) -> None:
    """List the runtimes (CPU, GPU) and whether your submission may use them."""
    state: State = ctx.obj
    client = state.workspace().client()
    try:
        options: list[dict[str, Any]] = client.runtime_options(submission)
    except NotFoundError as error:
        if error.code not in ("NEVER_SUBMITTED", "SUBMISSION_NOT_FOUND") or submission != "@last":
            raise
        definitions = client.runtime_definitions()
        options = [{"definition": definition, "status": None} for definition in definitions]
    if as_json:
        print_json(options)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "display name", "memory", "cpu", "gpu", "status", box=None)
    for option in options:
        definition = option.get("definition") or {}
        specification = definition.get("specification") or {}
        memory = (specification.get("memory") or {}).get("size")
        gpu = (specification.get("gpu") or {}).get("count")
        add_row(
            table,
            definition.get("name"),
            definition.get("displayName"),
            "" if memory is None else f"{memory} GB",
            (specification.get("cpu") or {}).get("coreCount") or "",
            gpu or "none",
            option.get("status") or "",
        )
    Console().print(table)
