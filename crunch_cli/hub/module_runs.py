"""Hub runs of competitions that ship their own modules, through the same pipeline as
`crunch test` (`crunch_cli.modules.pipeline`), with the hub's values and the hub's data.

The run folder gets the modules (read back and verified), the released files and, for the
scoring only, the released files with the hidden ones laid over them. Data files are hard
links to the stored blobs (copies when runs are not sandboxed, since an unconfined run could
then change them). Inside the sandbox every one of these folders is moved out of the hub's
root, which stays unreachable.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from crunch_cli.hub import metrics, runs, views
from crunch_cli.hub.competition_modules import run_inputs
from crunch_cli.hub.models import Competition
from crunch_cli.hub.runs import Outcome
from crunch_cli.hub.store import HubStore
from crunch_cli.modules.pipeline import ModuleRun
from crunch_cli.runner.formats import has_model
from crunch_cli.runner.spec import RunResult, RunSpec, metric_details
from crunch_cli.untrusted import relative_name

INSIDE_MODULES = Path("/modules")
INSIDE_SCRATCH = Path("/scratch")
INSIDE_SCORING = Path("/scoring-data")


@dataclasses.dataclass(frozen=True)
class ModuleInputs:
    """What the database says a module run needs, read before the run starts."""

    modules: dict[str, tuple[bytes, str]]
    released: dict[str, Path]  # relative path → stored blob
    hidden: dict[str, Path]
    metrics: list[dict[str, Any]]

    @property
    def shas(self) -> dict[str, str]:
        return {kind: sha256 for kind, (_source, sha256) in self.modules.items()}


def read_inputs(store: HubStore, session: Session, competition: Competition) -> ModuleInputs:
    inputs = run_inputs(store, session, competition)
    released = {
        item.name: store.blobs.path(item.blob_key)
        for item in competition.data_files
        if not item.hidden
    }
    target = metrics.target(competition)
    return ModuleInputs(
        modules=inputs.modules,
        released=released,
        hidden=inputs.hidden_files,
        metrics=[views.metric(item, target) for item in metrics.metrics(session, competition)],
    )


def run(
    store: HubStore,
    run_id: int,
    inputs: ModuleInputs,
    spec: RunSpec,
    folder: Path,
    context: dict[str, Any],
    run_process: Callable[[ModuleRun], RunResult],
    note: Callable[[str], None],
) -> Outcome:
    """Run the submission `spec` describes (its code, model folder and limits) with the
    competition's modules; the metrics scored are the run's, the first one its score."""
    runs.record_modules(store, run_id, inputs.shas)
    modules_dir, released, scoring = folder / "modules", folder / "released", folder / "scoring"
    modules = {}
    modules_dir.mkdir()
    for kind, (source, _sha256) in inputs.modules.items():
        modules[kind] = modules_dir / f"{kind}.py"
        modules[kind].write_bytes(source)
    link = store.settings.sandbox
    _lay(inputs.released, released, link)
    _lay(inputs.released, scoring, link)
    _lay(inputs.hidden, scoring, link)
    view = {
        **spec.sandbox_view,
        modules_dir: INSIDE_MODULES,
        folder / "scratch": INSIDE_SCRATCH,
        scoring: INSIDE_SCORING,
        released: Path("/released"),
    }
    predictions = spec.prediction_path.parent / "prediction"
    result = run_process(
        ModuleRun(
            spec=dataclasses.replace(spec, sandbox_view=view),
            modules=modules,
            data_directory=released,
            prediction_directory=predictions,
            scratch=folder / "scratch",
            context={**context, "isLocal": False, "hasModel": has_model(spec.model_dir)},
            metrics=inputs.metrics,
            scoring_data=scoring,
        )
    )
    if not result.ok:
        reason = result.exit_reason or "error"
        return Outcome(False, reason, result.error, result.exit_code)
    scored = result.metrics or []
    for metric in scored:
        details = metric_details(metric)
        note(f"{metric['target']} / {metric['name']}: {metric['value']} {details}".rstrip())
    first = scored[0]["value"] if scored else None
    if first is None:
        return Outcome(False, "checks", "the scoring module gave no value to the ranking metric", 0)
    return Outcome(True, exit_code=0, score=float(first), metrics=scored)


def _lay(files: dict[str, Path], folder: Path, link: bool) -> None:
    """Place stored files at their relative paths under `folder` (names checked again)."""
    for name, stored in files.items():
        target = folder.joinpath(*PurePosixPath(relative_name(name, what="data file")).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        if link:
            try:
                os.link(stored, target)
                continue
            except OSError:
                pass
        shutil.copyfile(stored, target)
        target.chmod(0o444)
