"""`crunch demo`: the competitor's loop on an embedded hub, one narrated step at a time.

setup → test → push → run on the hub → leaderboard, each step announced with the command a
competitor would type to do it by hand. Events go to an `emit` callback as they happen (a
`Step` before each action, plain lines about what came of it), so the CLI prints live and
the tests read the same events.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from crunch_cli.runner.spec import BUILT_IN
from crunch_cli.workspace import Workspace

DEMO_USER = "you"
DEMO_PROJECT = "first-model"
FORMATS = {built_in.label: f"demo-{built_in.label}" for built_in in BUILT_IN.values()}
TEMPLATES = Path(__file__).parent / "templates"
RUN_TIMEOUT_SECONDS = 120


@dataclasses.dataclass(frozen=True)
class Step:
    title: str
    explanation: str
    command: str


Emit = Callable[[Step | str], None]


class TourHub(Protocol):
    """The embedded hub, as the tour sees it once it is serving."""

    @property
    def url(self) -> str: ...

    def mint_setup_token(self, competition: str, user_login: str, project_name: str) -> str: ...


# Starts a hub with the demo competitions in a folder and serves it until the context ends.
# `crunch demo` passes the hub package's: the competitor side does not import the hub.
StartHub = Callable[[Path], AbstractContextManager[TourHub]]


def run_tour(
    folder: Path, emit: Emit, start_hub: StartHub, *, format: str = "timeseries"
) -> float | None:
    """Run the demo inside `folder` (hub state + workspace); returns the hub's score."""
    competition = FORMATS[format]
    root = (folder / "hub").absolute()
    emit(
        Step(
            "Start a hub",
            "A competition hub with one demo competition per format, on a free loopback port.",
            f"crunch hub serve --demo --root {root}",
        )
    )
    with start_hub(root) as hub:
        emit(f"hub listening on {hub.url}")

        emit(
            Step(
                "Get a setup token",
                "On a hosted hub you copy it from the competition page; it works once, "
                "within 3 minutes.",
                f"crunch hub token {competition} {DEMO_USER} {DEMO_PROJECT}",
            )
        )
        token = hub.mint_setup_token(competition, DEMO_USER, DEMO_PROJECT)
        emit("token minted (tokens are never printed)")

        workspace = _setup(folder, competition, token, hub.url, emit)
        _copy_quickstarter(format, workspace.root, emit)
        _test(workspace, emit)
        return _push_and_run(workspace, hub.url, emit)


def _setup(folder: Path, competition: str, token: str, url: str, emit: Emit) -> Workspace:
    from crunch_cli.setup_project import setup_project

    emit(
        Step(
            "Set up the workspace",
            "Trades the token for a project token, creates the folder, downloads the data.",
            f"echo <token> | crunch setup {competition} {DEMO_PROJECT} --token -",
        )
    )
    result = setup_project(
        competition=competition,
        project=DEMO_PROJECT,
        token=token,
        base_url=url,
        directory=folder / f"{competition}-{DEMO_PROJECT}",
    )
    if result.data_error is not None:
        raise result.data_error
    emit(f"workspace ready in {result.workspace.root}")
    for line in _describe_data(result.workspace.data_dir):
        emit(line)
    return result.workspace


def _copy_quickstarter(format: str, root: Path, emit: Emit) -> None:
    emit(
        Step(
            "Write a model",
            "A quickstarter: main.py defines train() and infer(); requirements.txt lists "
            "its libraries.",
            f"cp templates/{format}/main.py templates/{format}/requirements.txt .",
        )
    )
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATES / format / name, root / name)
    emit(f"main.py: {len((root / 'main.py').read_text().splitlines())} lines")


def _test(workspace: Workspace, emit: Emit) -> None:
    from crunch_cli.runner.local import TestOptions, test_workspace

    emit(
        Step(
            "Test it locally",
            "Runs train() and infer() in a separate process, network blocked, then checks "
            "and scores the predictions on the validation set.",
            "crunch test",
        )
    )
    report = test_workspace(workspace, TestOptions(), lambda stream, line: emit(f"  | {line}"))
    report.raise_for_failure()
    if report.score is not None and report.score.value is not None:
        emit(f"local score on the validation set: {report.score.metric} {report.score.value:.4f}")


def _push_and_run(workspace: Workspace, url: str, emit: Emit) -> float | None:
    from crunch_cli.environments import Settings
    from crunch_cli.push.bundle import build_bundle
    from crunch_cli.push.submit import submit
    from crunch_cli.push.upload import CACHE_FILE, UploadCache
    from crunch_cli.runs import create_run, follow_run, outcome, raise_if_failed

    emit(
        Step(
            "Push it",
            "Uploads the code and the model files, requirements pinned to your versions.",
            'crunch push -m "my first model"',
        )
    )
    client = Settings(api_base_url=url).workspace(workspace).client()
    cache = UploadCache(workspace.metadata_dir / CACHE_FILE)
    bundle = build_bundle(workspace, cache=cache)
    submission, sent = submit(client, workspace, bundle, cache, message="my first model")
    emit(f"submission #{submission['number']}: {len(bundle.files)} files, {sent:,} bytes sent")

    emit(
        Step(
            "Run it on the hub",
            "The hub runs the submission on its hidden test set, sandboxed, and scores it.",
            "crunch run create --wait",
        )
    )
    run = create_run(client, submission=submission["number"])
    finished = None
    for item in follow_run(client, run["id"], timeout=RUN_TIMEOUT_SECONDS):
        if "content" in item:
            emit(f"  | {item['content']}")
        else:
            finished = item
    assert finished is not None
    emit(outcome(finished))
    raise_if_failed(finished)

    emit(Step("See the leaderboard", "Best score per project.", "crunch leaderboard"))
    for entry in client.leaderboard().get("entries", []):
        emit(f"#{entry['rank']}  {entry['userLogin']}/{entry['projectName']}  {entry['score']:.4f}")
    return finished.get("score")


def _describe_data(data_dir: Path) -> list[str]:
    import pyarrow.parquet

    lines = []
    for path in sorted(data_dir.glob("*.parquet")):
        metadata = pyarrow.parquet.read_metadata(path)
        names = metadata.schema.names
        shown = ", ".join(names[:4]) + (f", … ({len(names)} columns)" if len(names) > 4 else "")
        lines.append(f"  data/{path.name}: {metadata.num_rows:,} rows — {shown}")
    return lines
