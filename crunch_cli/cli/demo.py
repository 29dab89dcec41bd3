"""`crunch demo`: print the tour as it happens."""

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.cli.output import echo
from crunch_cli.demo import FORMATS, StartHub, Step, TourHub, run_tour
from crunch_cli.errors import CrunchError


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
            echo(f"\n{steps}. {event.title}", bold=True)
            echo(f"   {event.explanation}")
            echo(f"   $ {event.command}", dim=True)
        else:
            echo(f"   {event}")

    try:
        score = run_tour(folder, emit, _hub_starter(), format=format)
        if score is not None:
            echo(f"\nDone: your demo model scored {score:.4f} on the hub.", bold=True)
    finally:
        if keep:
            echo(f"\nEverything is kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _hub_starter() -> StartHub:
    """The hub package's embedded hub, with the demo competitions, for the tour."""
    try:
        from crunch_cli.hub import HubSettings, demo, organizer
        from crunch_cli.hub.server import serve_in_thread
    except ImportError as error:
        raise CrunchError(
            f"the demo needs the hub, which is not installed ({error.name} is missing)",
            hint="pip install 'crunch-cli-hub[hub]'",
        ) from error

    @dataclasses.dataclass(frozen=True)
    class ServingHub:
        url: str
        settings: HubSettings

        def mint_setup_token(self, competition: str, user_login: str, project_name: str) -> str:
            return organizer.mint_setup_token(self.settings, competition, user_login, project_name)

    @contextmanager
    def start(root: Path) -> Iterator[TourHub]:
        settings = HubSettings(root)
        demo.create_demo_competitions(settings)
        with serve_in_thread(settings) as server:
            yield ServingHub(server.url, settings)

    return start
