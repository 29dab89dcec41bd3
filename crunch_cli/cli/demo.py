"""`crunch demo`: print the tour as it happens."""

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.demo import FORMATS, Step, run_tour


def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo folder (hub + workspace) afterwards.")
    ] = False,
    format: Annotated[
        str, typer.Option("--format", help="Competition format: " + ", ".join(FORMATS) + ".")
    ] = "timeseries",
) -> None:
    """Try the whole loop on a throw-away local hub: setup → test → push → score."""
    if format not in FORMATS:
        raise typer.BadParameter("choose " + ", ".join(FORMATS), param_hint="--format")
    folder = Path(tempfile.mkdtemp(prefix="crunch-demo-"))
    steps = 0

    def emit(event: Step | str) -> None:
        nonlocal steps
        if isinstance(event, Step):
            steps += 1
            typer.secho(f"\n{steps}. {event.title}", bold=True)
            typer.echo(f"   {event.explanation}")
            typer.secho(f"   $ {event.command}", dim=True)
        else:
            typer.echo(f"   {event}")

    try:
        score = run_tour(folder, emit, format=format)
        if score is not None:
            typer.secho(f"\nDone: your demo model scored {score:.4f} on the hub.", bold=True)
    finally:
        if keep:
            typer.echo(f"\nEverything is kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
