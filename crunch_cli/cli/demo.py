"""`crunch demo`: print the tour as it happens."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.demo import FORMATS, Step, tour


def demo(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the demo folder (hub + workspace) afterwards.")
    ] = False,
    format: Annotated[
        str, typer.Option("--format", help="Competition format: " + ", ".join(FORMATS) + ".")
    ] = "timeseries",
) -> None:
    """Try the whole loop on a throw-away local hub: setup → data → test → push → score."""
    if format not in FORMATS:
        raise typer.BadParameter("choose " + ", ".join(FORMATS), param_hint="--format")
    folder = Path(tempfile.mkdtemp(prefix="crunch-demo-"))
    try:
        number = 0
        for event in tour(folder, format=format):
            if isinstance(event, Step):
                number += 1
                typer.secho(f"\n{number}. {event.title}", bold=True)
                typer.echo(f"   {event.explanation}")
                typer.secho(f"   $ {event.command}", dim=True)
            else:
                typer.echo(f"   {event}")
    finally:
        if keep:
            typer.echo(f"\nEverything is kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
