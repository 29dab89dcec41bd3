"""Every run, `crunch test`'s and the hub's: a competition's modules (an organizer's, or
crunch's built-in ones for its own formats), one sandboxed process per role.

The runner's `run` is the orchestrator, in a sandbox of its own (crunch's built-in runner
and scoring run in this process: they are ours). Each `context.execute` it
makes is a request to us, answered by starting the participant's code in a fresh sandboxed
child (limits, network cut, output streamed) and telling the orchestrator how it went. The
scoring module runs last, in a third kind of process, with the data the participant never
saw (the hub's hidden files).

The data fuse is real: the data is shown to every process through a folder of hard links
made for this run, and when the participant's process trips the fuse we take that folder's
permissions away, so from then on its code cannot open a data file (the sandbox has no
capability to override them, and the folder is mounted read-only, so it cannot undo it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from crunch_cli.modules.builtin import PREDICTION_FILE, is_built_in
from crunch_cli.runner import process
from crunch_cli.runner.calls import Events
from crunch_cli.runner.process import OutputCallback, RequestHandler
from crunch_cli.runner.spec import (
    Judging,
    ModuleJob,
    ModuleRole,
    PhaseTiming,
    RunResult,
    RunSpec,
)

OPEN = 0o755
FUSED = 0o000


@dataclasses.dataclass(frozen=True)
class ModuleRun:
    """One run of a competition's modules. `spec` carries the limits, the participant's
    code and the model folder; its data and predictions are replaced by the folders here.

    `scoring_data` is the folder the scoring module reads (the released data with the hidden
    files laid over it, on the hub); None: the released data. `judging` is the reference the
    built-in scoring judges against when the participant's process does not judge itself.
    """

    spec: RunSpec
    modules: Mapping[str, Path]
    data_directory: Path
    prediction_directory: Path
    scratch: Path
    context: Mapping[str, Any]
    metrics: Sequence[Mapping[str, Any]] = ()
    scoring_data: Path | None = None
    score: bool = True
    judging: Judging | None = None


def run_modules(
    run: ModuleRun,
    on_output: OutputCallback | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run the runner, its commands, then the scoring; the first failure is the result.

    The built-in modules (`crunch_cli.modules.builtin`) are crunch's own code: they run in
    this process, and only the participant's commands get a sandbox. An organizer's runner
    and scoring get sandboxes of their own.
    """
    trusted = is_built_in(run.modules)
    # The built-in runner never trips the fuse: its data needs no folder of its own.
    view = run.data_directory if trusted else data_view(run.data_directory, run.scratch / "data")
    run.prediction_directory.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    executions: list[RunResult] = []

    # Scored where the runner ran when the scoring sees the same data: no process to start.
    inline = run.score and run.scoring_data is None and "scoring" in run.modules and not trusted

    def job(role: ModuleRole, **fields: Any) -> RunSpec:
        data = fields.pop("data_directory", view)
        module_job = ModuleJob(
            role=role,
            modules=dict(run.modules),
            data_directory=data,
            prediction_directory=run.prediction_directory,
            context={**run.context, "scoreInRunner": inline and role == "run"},
            metrics=tuple(run.metrics),
            **fields,
        )
        total = run.spec.total_timeout
        left = total
        if total is not None and not trusted:  # the orchestrator's time counts too
            left = max(1.0, total - (time.monotonic() - started))
        return dataclasses.replace(
            run.spec,
            prediction_path=run.prediction_directory / ".run",
            modules=module_job,
            total_timeout=left,
        )

    def fuse(request: dict[str, Any]) -> dict[str, Any] | None:
        if request.get("action") != "fuse" or trusted:
            return None
        view.chmod(FUSED)
        return {"ok": True}

    def answer(request: dict[str, Any]) -> dict[str, Any] | None:
        if request.get("action") != "execute":
            return None
        arm = bool(request.get("fuse", True))
        if not trusted:
            view.chmod(OPEN if arm else FUSED)
        parameters = request.get("parameters")
        result = process.run(
            job(
                "execute",
                command=str(request.get("command")),
                parameters=parameters if isinstance(parameters, dict) else {},
                fuse=arm,
            ),
            on_output,
            stop,
            fuse,
        )
        executions.append(result)
        if not trusted:
            view.chmod(OPEN)
        return {"ok": result.ok, "error": result.error}

    if trusted:
        return _run_built_in(run, job, answer, executions, on_output)
    try:
        orchestrated = process.run(job("run"), on_output, stop, answer)
    finally:
        with contextlib.suppress(OSError):
            view.chmod(OPEN)
    result = _combined(orchestrated, executions)
    if inline or not result.ok or not run.score or "scoring" not in run.modules:
        return result
    scored = process.run(job("score", data_directory=run.scoring_data or view), on_output, stop)
    if not scored.ok:
        return dataclasses.replace(result, exit_reason=scored.exit_reason, error=scored.error)
    return dataclasses.replace(result, metrics=scored.metrics)


class _InProcess(Events):
    """The event pipe of a built-in module called in this process: requests are answered
    at once, the module's lines go to `on_output` (or nowhere), the outcome is kept."""

    def __init__(
        self, answer: RequestHandler | None = None, on_output: OutputCallback | None = None
    ) -> None:
        super().__init__(None)
        self._answer = answer
        self._on_output = on_output
        self.metrics: list[dict[str, Any]] | None = None

    def send(self, **event: Any) -> None:
        if event["type"] == "scored":
            self.metrics = [dict(metric) for metric in event["metrics"]]

    def request(self, **request: Any) -> dict[str, Any]:
        assert self._answer is not None
        return self._answer({"type": "request", **request}) or {}

    def note(self, message: str, *, error: bool = False) -> None:
        if self._on_output is not None:
            self._on_output("runner", message)


def _run_built_in(
    run: ModuleRun,
    job: Callable[..., RunSpec],
    answer: RequestHandler,
    executions: list[RunResult],
    on_output: OutputCallback | None,
) -> RunResult:
    """The built-in runner here, its one command in a sandboxed child, then (where the
    child did not judge its own predictions) the built-in scoring here."""
    from crunch_cli.modules import roles
    from crunch_cli.protocol.types import ParticipantVisibleError

    with contextlib.suppress(roles.ExecuteFailed):  # the command's own result says why
        roles.perform(job("run"), _InProcess(answer))
    (result,) = executions
    if not result.ok:
        return result
    predictions = run.prediction_directory / PREDICTION_FILE
    result = dataclasses.replace(result, predictions_path=predictions)
    if not run.score or run.judging is None:
        return result
    scoring = _InProcess(on_output=on_output)
    try:
        roles.perform(job("score"), scoring, run.judging)
    except ParticipantVisibleError as error:
        failed = dataclasses.replace(result, predictions_path=None, exit_reason="checks")
        return dataclasses.replace(failed, error=str(error))
    return dataclasses.replace(result, metrics=scoring.metrics)


def _combined(orchestrated: RunResult, executions: list[RunResult]) -> RunResult:
    """The run as one result: a failed command fails the run (whatever the runner made of
    it) and explains it best; the phases are every command's, the memory the largest. Only
    the runner's word counts on determinism: the participant's processes could forge one."""
    failed = next((result for result in executions if not result.ok), None)
    phases: dict[str, PhaseTiming] = {}
    for result in (*executions, orchestrated):
        for name, timing in result.phases.items():
            if result is orchestrated and name == "run":
                continue  # the commands' own phases say where that time went
            total = phases.setdefault(name, PhaseTiming())
            total.calls += timing.calls
            total.seconds += timing.seconds
    outcome = failed or orchestrated
    return dataclasses.replace(
        orchestrated,
        exit_reason=outcome.exit_reason,
        error=outcome.error,
        phases=phases,
        skipped_trains=sum(result.skipped_trains for result in executions),
        peak_rss=max(result.peak_rss for result in (orchestrated, *executions)),
    )


def data_view(source: Path, view: Path) -> Path:
    """`source` seen through a folder of this run: hard links (copies across file systems),
    so that taking the folder's permissions away cuts the run off the data, and nothing of
    the user's own folder changes.
    """
    view.mkdir(parents=True, exist_ok=True)
    for folder, folders, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (view / relative).mkdir(exist_ok=True)
        for name in files:
            origin, copy = Path(folder) / name, view / relative / name
            try:
                os.link(origin, copy)
            except OSError:
                shutil.copy2(origin, copy)
        folders[:] = [name for name in folders if not (Path(folder) / name).is_symlink()]
    return view


def run_scoring(
    scoring: Path,
    data_directory: Path,
    prediction_directory: Path,
    metrics: Sequence[Mapping[str, Any]],
    *,
    check_only: bool,
    scratch: Path,
    on_output: OutputCallback | None = None,
    context: Mapping[str, Any] | None = None,
) -> RunResult:
    """The scoring module alone on given folders (an organizer trying it), sandboxed too."""
    from crunch_cli.runner.spec import Format

    spec = RunSpec(
        main_file=scoring,
        model_dir=scratch / "model",
        data=None,
        format=Format.UNSTRUCTURED,
        prediction_path=scratch / "output" / ".run",
        modules=ModuleJob(
            role="score",
            modules={"scoring": scoring},
            data_directory=data_directory,
            prediction_directory=prediction_directory,
            command="check" if check_only else "score",
            context=dict(context or {}),
            metrics=tuple(metrics),
        ),
    )
    return process.run(spec, on_output)


def load_runner_data(spec: RunSpec, runner: Path, data_directory: Path, scratch: Path) -> Any:
    """What the runner's `load_data` returns, for a notebook: run in the sandbox, read back
    as data only."""
    from crunch_cli.errors import RunnerError
    from crunch_cli.modules.roles import LOADED_FILE
    from crunch_cli.modules.unpickle import loads

    output = scratch / "loaded"
    output.mkdir(parents=True, exist_ok=True)
    result = process.run(
        dataclasses.replace(
            spec,
            data=None,
            prediction_path=output / ".run",
            modules=ModuleJob(
                role="load",
                modules={"runner": runner},
                data_directory=data_directory,
                prediction_directory=output,
            ),
        )
    )
    if not result.ok:
        raise RunnerError(result.error or "load_data() failed")
    return loads((output / LOADED_FILE).read_bytes())
