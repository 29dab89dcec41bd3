"""`crunch demo`: the competitor's loop on an embedded hub, one narrated step at a time.

The tour is a generator: it yields a `Step` before doing each thing and plain lines about
what came of it, so the CLI prints as it goes and the tests can read the same events.
Each step names the command a competitor would type to do it by hand.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path

from crunch_cli.errors import CrunchError

DEMO_USER = "you"
DEMO_PROJECT = "first-model"
FORMATS = {
    "timeseries": "demo-timeseries",
    "cross-sectional": "demo-cross-sectional",
    "stream": "demo-stream",
}


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    explanation: str
    command: str


def tour(folder: Path, *, format: str = "timeseries") -> Iterator[Step | str]:
    """Run the demo inside `folder` (hub state + workspace), yielding what happens."""
    try:
        from crunch_cli.hub import HubSettings, demo, organizer
        from crunch_cli.hub.server import serve_in_thread
    except ImportError as error:
        raise CrunchError(
            f"the demo needs the hub, which is not installed ({error.name} is missing)",
            hint="pip install 'crunch-cli-hub[hub]'",
        ) from error
    from crunch_cli.setup_project import setup_project

    competition = FORMATS[format]
    settings = HubSettings(folder / "hub")
    yield Step(
        "Start a hub",
        "A competition hub with one demo competition per format, on a free loopback port.",
        f"crunch hub serve --demo --root {settings.root}",
    )
    demo.create_demo_competitions(settings)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serve_in_thread(settings))
        yield f"hub listening on {server.url}"

        yield Step(
            "Get a setup token",
            "On a hosted hub you copy it from the competition page; it works once, for 3 minutes.",
            f"crunch hub token {competition} {DEMO_USER} {DEMO_PROJECT}",
        )
        token = organizer.mint_setup_token(settings, competition, DEMO_USER, DEMO_PROJECT)
        yield "token minted (tokens are never printed)"

        workspace_dir = folder / f"{competition}-{DEMO_PROJECT}"
        yield Step(
            "Set up the workspace",
            "Trades the token for a project token, creates the folder and downloads the data.",
            f"crunch setup {competition} {DEMO_PROJECT} --token <token>",
        )
        result = setup_project(
            competition=competition,
            project=DEMO_PROJECT,
            token=token,
            base_url=server.url,
            directory=workspace_dir,
        )
        if result.data_error is not None:
            raise result.data_error
        yield f"workspace ready in {workspace_dir}"
        yield from _describe_data(result.workspace.data_dir)


def _describe_data(data_dir: Path) -> Iterator[str]:
    import pyarrow.parquet

    for path in sorted(data_dir.glob("*.parquet")):
        metadata = pyarrow.parquet.read_metadata(path)
        names = metadata.schema.names
        shown = ", ".join(names[:4]) + (f", … ({len(names)} columns)" if len(names) > 4 else "")
        yield f"  data/{path.name}: {metadata.num_rows:,} rows — {shown}"
