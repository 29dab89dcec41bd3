"""`crunch convert`: a notebook into main.py (and requirements.txt, embedded files)."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State

if TYPE_CHECKING:
    from crunch_cli.requirements import Whitelist

_BAD_CELLS = ("error", "comment")


def _check_bad_cells(value: str) -> str:
    if value not in _BAD_CELLS:
        raise typer.BadParameter("choose error or comment")
    return value


def convert(
    ctx: typer.Context,
    notebook: Annotated[Path, typer.Argument(help="The notebook (.ipynb) to convert.")],
    script: Annotated[Path, typer.Argument(help="The script to write.")] = Path("main.py"),
    write_requirements: Annotated[
        bool,
        typer.Option(
            "--requirements",
            "--write-requirements",
            help="Also write requirements.txt beside the script.",
        ),
    ] = False,
    write_embedded_files: Annotated[
        bool,
        typer.Option(
            "--embedded-files",
            "--write-embedded-files",
            help="Also write the files embedded in markdown cells.",
        ),
    ] = False,
    no_freeze: Annotated[
        bool,
        typer.Option("--no-freeze", help="Do not pin requirements to the installed versions."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--overwrite", "--force", help="Overwrite existing files.")
    ] = False,
    bad_cells: Annotated[
        str,
        typer.Option(
            "--bad-cells",
            callback=_check_bad_cells,
            metavar="error|comment",
            help="Code that does not parse: stop (error), or comment out the statements that "
            "do not parse and keep the rest (comment).",
        ),
    ] = "error",
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Also list the requirements (Python and R) and embedded files found.",
        ),
    ] = False,
) -> None:
    """Convert a notebook into a script: imports, functions and classes are kept, the rest
    is commented out."""
    from crunch_cli.convert.files import convert_file

    result = convert_file(
        notebook,
        script,
        write_requirements=write_requirements,
        write_embedded_files=write_embedded_files,
        freeze=not no_freeze,
        force=force,
        bad_cells=bad_cells,  # type: ignore[arg-type]  # _check_bad_cells admits only BadCells values
        whitelist=_whitelist(ctx.obj) if write_requirements else None,
    )
    if verbose:
        for requirement in result.conversion.requirements:
            echo(f"requirement: {requirement}")
        for requirement in result.conversion.r_requirements:
            echo(f"R requirement: {requirement}")
        for name in sorted(result.conversion.embedded_files):
            echo(f"embedded file: {name}")
    for warning in result.conversion.warnings:
        echo(f"warning: {warning}", fg="yellow", err=True)
    for note in result.notes:
        echo(f"note: {note}", err=True)
    for path in result.written:
        echo(f"wrote {path}")


def _whitelist(state: State) -> "Whitelist | None":
    """The hub's whitelist when a hub is named (option, env, or this workspace); none
    otherwise, so that converting outside a workspace never waits on the network."""
    from crunch_cli.requirements import Whitelist

    settings = state.settings
    if settings.named_base_url() is None and settings.nearby_workspace() is None:
        return None
    return Whitelist(settings.hub(timeout=5))
