"""Hub runs, through the same pipeline as `crunch test` (`crunch_cli.modules.pipeline`), with
the hub's values and the hub's data: a competition's own modules, or the built-in ones of
its format (`crunch_cli.modules.builtin`).

It takes a run as plain inputs (`ModuleInputs`: local, verified files by relative path), so
the same code lays out and runs a job on the hub and on a worker elsewhere
(`crunch_cli.hub.execution.perform` fetches the files first). The run folder gets the
modules, the released files and, for the scoring only, the released files with the hidden
ones laid over them. Data files are hard links to the verified files (copies when runs are
not sandboxed, since an unconfined run could then change them). Inside the sandbox every
one of these folders is moved out of the caller's own folders, which stay unreachable; the
released files appear as /data.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from crunch_cli.hub.execution.job import Outcome
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
    """What a run needs besides the submission, as local files already checked against
    their sha256. `modules` maps an organizer's module kind to its source file; none: the
    built-in modules, which judge as `judging` says. `released` and `hidden` map a path
    relative to the data folder to its file. `metrics` are the competition's."""

    modules: Mapping[str, Path]
    released: Mapping[str, Path]
    hidden: Mapping[str, Path]
    metrics: Sequence[Mapping[str, Any]]
    judging: Judging | None = None


def run(
    inputs: ModuleInputs,
    spec: RunSpec,
    folder: Path,
    context: dict[str, Any],
    run_process: Callable[[ModuleRun], RunResult],
    note: Callable[[str], None],
    *,
    link: bool,
) -> Outcome:
    """Run the submission `spec` describes (its code, model folder and limits) with the
    competition's modules; the metrics scored are the run's, the first one its score.
    `link`: hard-link the data files into the folder (else read-only copies)."""
    released, scoring = folder / "released", folder / "scoring"
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
        modules = _copy_modules(inputs.modules, folder / "modules")
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


def _copy_modules(sources: Mapping[str, Path], folder: Path) -> dict[str, Path]:
    modules = {}
    folder.mkdir()
    for kind, source in sources.items():
        modules[kind] = folder / f"{kind}.py"
        shutil.copyfile(source, modules[kind])
    return modules


def _lay(files: Mapping[str, Path], folder: Path, link: bool) -> None:
    """Place verified files at their relative paths under `folder` (names checked again)."""
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
