"""Hub runs, through the same pipeline as `crunch test` (`crunch_cli.modules.pipeline`), with
the hub's values and the hub's data: a competition's own modules, or the built-in ones of
its format (`crunch_cli.modules.builtin`).

The run folder gets the modules (an organizer's, read back and verified), the released files
and, for the scoring only, the released files with the hidden ones laid over them. Data
files are hard links to the stored blobs (copies when runs are not sandboxed, since an
unconfined run could then change them). Inside the sandbox every one of these folders is
moved out of the hub's root, which stays unreachable; the released files appear as /data.
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
from crunch_cli.hub.models import Competition, DataFile
from crunch_cli.hub.release_checks import HIDDEN_FILES
from crunch_cli.hub.runs import Outcome
from crunch_cli.hub.store import HubStore
from crunch_cli.modules import builtin
from crunch_cli.modules.pipeline import ModuleRun
from crunch_cli.runner.formats import has_model
from crunch_cli.runner.spec import DataFiles, Judging, RunResult, RunSpec, metric_details
from crunch_cli.untrusted import relative_name

INSIDE_MODULES = Path("/modules")
INSIDE_SCRATCH = Path("/scratch")
INSIDE_SCORING = Path("/scoring-data")
INSIDE_DATA = Path("/data")
NO_TARGETS = "the predictions passed every check; this competition has no hidden targets"


@dataclasses.dataclass(frozen=True)
class ModuleInputs:
    """What the database says a run needs, read before it starts. `modules` holds an
    organizer's sources, each with its sha256; none: the built-in modules, which judge as
    `judging` says."""

    modules: dict[str, tuple[bytes, str]]
    released: dict[str, Path]  # relative path → stored blob
    hidden: dict[str, Path]
    metrics: list[dict[str, Any]]
    judging: Judging | None = None

    @property
    def shas(self) -> dict[str, str]:
        return {kind: sha256 for kind, (_source, sha256) in self.modules.items()}


def read_inputs(
    store: HubStore, session: Session, competition: Competition, judging: Judging | None
) -> ModuleInputs:
    """The inputs of a run of `competition`; `judging` (the checks and the metric) for a
    built-in format."""
    target = metrics.target(competition)
    scored = [views.metric(item, target) for item in metrics.metrics(session, competition)]
    if judging is not None:
        return _built_in_inputs(store, competition.data_files, scored, judging)
    inputs = run_inputs(store, session, competition)
    released = {
        item.name: store.blobs.local_file(item.blob_key, item.sha256)
        for item in competition.data_files
        if not item.hidden
    }
    return ModuleInputs(inputs.modules, released, inputs.hidden_files, scored)


def _built_in_inputs(
    store: HubStore, files: list[DataFile], scored: list[dict[str, Any]], judging: Judging
) -> ModuleInputs:
    """The training files and the test features for the run; the targets for the scoring
    only. The hidden test set when the competition has one, else the released one."""
    public = {item.key: item for item in files if not item.hidden}
    hidden = {item.key: item for item in files if item.hidden}
    test = hidden if all(key in hidden for key in HIDDEN_FILES) else public
    chosen = {"X_train": public["X_train"], "y_train": public["y_train"], "X_test": test["X_test"]}
    y_test = test.get("y_test")
    return ModuleInputs(
        modules={},
        released={
            f"{key}.parquet": store.blobs.local_file(item.blob_key, item.sha256)
            for key, item in chosen.items()
        },
        hidden={}
        if y_test is None
        else {"y_test.parquet": store.blobs.local_file(y_test.blob_key, y_test.sha256)},
        metrics=scored if y_test is not None else [],
        judging=judging,
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
    released, scoring = folder / "released", folder / "scoring"
    link = store.settings.sandbox
    _lay(inputs.released, released, link)
    _lay(inputs.released, scoring, link)
    _lay(inputs.hidden, scoring, link)
    view = {
        **spec.sandbox_view,
        folder / "scratch": INSIDE_SCRATCH,
        scoring: INSIDE_SCORING,
        released: INSIDE_DATA,
    }
    judging = inputs.judging
    if judging is None:
        runs.record_modules(store, run_id, inputs.shas)
        modules = _write_modules(inputs.modules, folder / "modules")
        view[folder / "modules"] = INSIDE_MODULES
    else:
        modules = builtin.MODULES
        spec = dataclasses.replace(
            spec,
            data=DataFiles(
                *(released / f"{key}.parquet" for key in ("X_train", "y_train", "X_test"))
            ),
        )
        y_test = scoring / "y_test.parquet"
        judging = dataclasses.replace(judging, y_test=y_test if y_test.exists() else None)
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
            judging=judging,
        )
    )
    if not result.ok:
        reason = result.exit_reason or "error"
        return Outcome(False, reason, result.error, result.exit_code)
    scored = result.metrics or []
    for metric in scored:
        value = metric["value"]
        shown = "none" if value is None else f"{value:.6f}"
        line = f"score: {metric['name']} {shown} on {metric['target']} {metric_details(metric)}"
        note(line.rstrip())
    if not inputs.metrics:
        note(NO_TARGETS)
        return Outcome(True, exit_code=0)
    first = scored[0]["value"] if scored else None
    if first is None:
        return Outcome(False, "checks", "the scoring module gave no value to the ranking metric", 0)
    return Outcome(True, exit_code=0, score=float(first), metrics=scored)


def _write_modules(sources: dict[str, tuple[bytes, str]], folder: Path) -> dict[str, Path]:
    modules = {}
    folder.mkdir()
    for kind, (source, _sha256) in sources.items():
        modules[kind] = folder / f"{kind}.py"
        modules[kind].write_bytes(source)
    return modules


def _lay(files: dict[str, Path], folder: Path, link: bool) -> None:
    """Place stored files at their relative paths under `folder` (names checked again)."""
    folder.mkdir(parents=True, exist_ok=True)
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
