"""`crunch organizer COMPETITION test scoring check|score`: an organizer tries the
competition's scoring module on a data folder and a prediction folder, as crunch-cli 13
lets them, with the metrics the hub has for the competition. The module runs sandboxed,
like every module."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from crunch_cli.api import HubClient
from crunch_cli.environments import competitions_source
from crunch_cli.errors import CrunchError
from crunch_cli.modules.pipeline import run_scoring
from crunch_cli.modules.sources import load
from crunch_cli.runner.process import OutputCallback


@dataclasses.dataclass(frozen=True)
class ScoringTrial:
    location: str
    ok: bool
    error: str | None
    metrics: list[dict[str, Any]]


def try_scoring(
    competition: str,
    data_directory: Path,
    prediction_directory: Path,
    *,
    base_url: str,
    source: str | None,
    check_only: bool,
    chain_height: int,
    on_output: OutputCallback | None = None,
) -> ScoringTrial:
    for folder in (data_directory, prediction_directory):
        if not folder.is_dir():
            raise CrunchError(f"{folder} is not a folder", hint="pass an existing folder")
    loaded = load(competitions_source(source, base_url), competition, "scoring")
    if loaded is None:
        raise CrunchError(
            f"{competition} has no scoring module",
            hint="check the competition name and --competitions",
        )
    content, location = loaded
    if on_output is not None:
        on_output("runner", f"organizer: loading scoring code from {location}")
    metrics = HubClient(base_url).metrics(competition)
    with tempfile.TemporaryDirectory(prefix="crunch-scoring-") as scratch:
        module = Path(scratch) / "modules" / "scoring.py"
        module.parent.mkdir()
        module.write_bytes(content)
        result = run_scoring(
            module,
            data_directory.resolve(),
            prediction_directory.resolve(),
            metrics,
            check_only=check_only,
            scratch=Path(scratch),
            on_output=on_output,
            context={"chainHeight": chain_height, "isLocal": False},
        )
    return ScoringTrial(str(location), result.ok, result.error, result.metrics or [])
