"""One process of a run of competition modules (see `pipeline`): a sandboxed child's, or,
for crunch's built-in modules, the pipeline's own (`perform`).

- `run`: the orchestrator. It executes `runner.py` and calls its `run(context, ...)`; each
  `context.execute(...)` asks the parent for a sandboxed child and waits for its verdict.
- `execute`: one command of the participant's code. `runner.py`'s `execute(...)` returns its
  handlers; the one named by the command is called with the command's parameters, by name.
  `trip_data_fuse()` asks the parent to close the data folder and waits until it is closed.
- `score`: `scoring.py`'s `check` then `score`, on the predictions the run left.

A module's source is executed as crunch-cli executes it: a fresh module named after its file
(`runner.py`), not registered in `sys.modules`. A `ParticipantVisibleError` (any class of that
name) is shown as it is; any other error of an organizer's module names the module, the
function and the line; the participant's own errors show the participant's lines only.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import types
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from crunch_cli.modules.builtin import CrunchRun, ScheduleFailed
from crunch_cli.protocol.contexts import (
    DEFAULT_LOG_LIMITS,
    RunnerContext,
    RunnerExecutorContext,
    UserModule,
    call_function,
)
from crunch_cli.protocol.smart_call import smart_call
from crunch_cli.protocol.types import (
    Metric,
    ParticipantVisibleError,
    PhaseType,
    Target,
    group_metrics_by_target,
    validate_scores,
)
from crunch_cli.runner.calls import Events, ProtocolError
from crunch_cli.runner.spec import Judging, ModuleJob, RunSpec


class ExecuteFailed(BaseException):
    """A command of the participant's code failed; the parent already knows why."""


def load_source(path: Path) -> types.ModuleType:
    """Execute a module's source as crunch-cli does (COMPETITION_MODULES.md, 1.3)."""
    name = path.name
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__path__ = [str(path.parent)]
    module.__package__ = name.rpartition(".")[0]
    code = compile(path.read_bytes(), str(path), "exec")
    exec(code, module.__dict__)  # organizer code, in its sandbox
    return module


def run(spec: RunSpec, events: Events) -> int:
    """The child's entry point for a module job: 0 on success, 1 after reporting why."""
    job = spec.modules
    assert job is not None
    try:
        perform(spec, events)
    except (ExecuteFailed, ScheduleFailed):
        return 1
    except (ParticipantVisibleError, ProtocolError) as error:  # the parent tells it, once
        events.send(type="failure", message=str(error))
        return 1
    except BaseException as error:  # SystemExit too: code calling exit() is a crash
        events.send(type="failure", message=_describe(error, spec, job))
        _print_traceback(error, spec, job)
        return 1
    return 0


def perform(spec: RunSpec, events: Events, judging: Judging | None = None) -> None:
    """A module job's role, its errors raised: the pipeline calls the built-in modules this
    way, in its own process. `judging` is the reference the built-in scoring judges against.
    """
    job = spec.modules
    assert job is not None
    crunch_run = CrunchRun(spec, job, events, judging)
    if job.role == "run":
        _orchestrate(spec, job, events, crunch_run)
    elif job.role == "execute":
        _execute(spec, job, events, crunch_run)
    elif job.role == "load":
        _load_data(job)
    else:
        _score(job, events, crunch_run)


# -- the orchestrator ---------------------------------------------------------------------------


class _RunnerContext(RunnerContext):
    """`context` of `run(...)`, with crunch-cli's values (`is_local` says where)."""

    def __init__(self, job: ModuleJob, events: Events) -> None:
        self._job = job
        self._events = events
        self._values = job.context
        self._started_at = datetime.now(tz=timezone.utc)

    @property
    def started_at(self) -> datetime:
        return self._started_at

    @property
    def timeout(self) -> timedelta | None:
        seconds = self._values.get("timeout")
        return None if seconds is None else timedelta(seconds=float(seconds))

    @property
    def train_frequency(self) -> int:
        return int(self._values.get("trainFrequency", 1))

    @property
    def force_first_train(self) -> bool:
        return bool(self._values.get("forceFirstTrain", True))

    @property
    def is_local(self) -> bool:
        return bool(self._values.get("isLocal", True))

    @property
    def is_submission_phase(self) -> bool:
        return True

    @property
    def chain_height(self) -> int:
        return int(self._values.get("chainHeight", 1))

    @property
    def has_model(self) -> bool:
        return bool(self._values.get("hasModel", False))

    @property
    def is_determinism_check_enabled(self) -> bool:
        return bool(self._values.get("determinismCheck", False))

    def report_determinism(self, deterministic: bool) -> None:
        difference = None if deterministic else "the runner found that the code is not"
        self._events.send(type="determinism", difference=difference)

    def log(self, message: str, *, important: bool = False, error: bool = False) -> Literal[True]:
        self._events.note(message, error=error or important)
        return True

    def execute(
        self,
        *,
        command: str,
        parameters: dict[str, Any] | None = None,
        trace: bool = True,
        span_hidden_parameters: list[str] | None = None,
        span_attributes: dict[str, Any] | None = None,
        install_data_fuse: bool = True,
        log_limits: tuple[int, int] = DEFAULT_LOG_LIMITS,
    ) -> None:
        self.log(f"executing - command={command}")
        answer = self._events.request(
            action="execute",
            command=command,
            parameters=_plain(parameters or {}),
            fuse=install_data_fuse,
        )
        if not answer.get("ok"):
            raise ExecuteFailed


def _orchestrate(spec: RunSpec, job: ModuleJob, events: Events, crunch_run: CrunchRun) -> None:
    """`run(...)`, then, when the parent asks for it (a local test: no hidden data to keep
    from the runner), the scoring in this same process, which saves starting another."""
    runner = _module(job, "runner")
    function = _function(runner, "runner.py", "run")
    _function(runner, "runner.py", "execute")
    with events.framing("run"):
        call_function(
            function,
            {
                "context": _RunnerContext(job, events),
                "data_directory_path": str(job.data_directory),
                "model_directory_path": str(spec.model_dir),
                "prediction_directory_path": str(job.prediction_directory),
                "tracer": None,
            },
        )
    if job.context.get("scoreInRunner") and "scoring" in job.modules:
        _score(job, events, crunch_run)


# -- one command of the participant's code -------------------------------------------------------


class _ExecutorContext(RunnerExecutorContext):
    def __init__(self, job: ModuleJob, events: Events) -> None:
        self._job = job
        self._events = events

    @property
    def is_local(self) -> bool:
        return bool(self._job.context.get("isLocal", True))

    def trip_data_fuse(self) -> None:
        """Ask the parent to close the data folder and wait for its answer: the
        participant's code must not start while it could still read the data."""
        if not self._job.fuse:
            return
        self._events.request(action="fuse")
        if os.access(self._job.data_directory, os.R_OK | os.X_OK):
            raise ProtocolError("the data fuse did not trip: the data is still readable")


class _UserModule(UserModule):
    """The participant's code, imported on first use (as crunch-cli's cloud executor does)."""

    def __init__(self, main_file: Path) -> None:
        self._main_file = main_file
        self._module: types.ModuleType | None = None

    @property
    def module(self) -> types.ModuleType:
        if self._module is None:
            from crunch_cli.runner.child import load_module

            self._module = load_module(self._main_file)
        return self._module


def _execute(spec: RunSpec, job: ModuleJob, events: Events, crunch_run: CrunchRun) -> None:
    runner = _module(job, "runner")
    execute = _function(runner, "runner.py", "execute")
    handlers = call_function(
        execute,
        {
            "context": _ExecutorContext(job, events),
            "module": _UserModule(spec.main_file),
            "data_directory_path": str(job.data_directory),
            "model_directory_path": str(spec.model_dir),
            "prediction_directory_path": str(job.prediction_directory),
            "crunch_run": crunch_run,
        },
    )
    command = str(job.command)
    handler = handlers.get(command) if isinstance(handlers, dict) else None
    if not callable(handler):
        known = ", ".join(map(str, handlers)) if isinstance(handlers, dict) else "none"
        raise ProtocolError(f"runner.py's execute() has no command {command!r} (it has: {known})")
    with events.framing(command):
        smart_call(handler, dict(job.parameters))


# -- the notebook's load_data ---------------------------------------------------------------------

LOADED_FILE = "loaded.pickle"


def _load_data(job: ModuleJob) -> None:
    """The runner's `load_data`, its result pickled for the notebook (read back with an
    allow-list there, see `crunch_cli.modules.unpickle`)."""
    import logging
    import pickle

    runner = _module(job, "runner")
    function = _function(runner, "runner.py", "load_data")
    logger = logging.getLogger("crunch-cli:tester")
    result = call_function(
        function, {"data_directory_path": str(job.data_directory), "logger": logger}
    )
    with open(job.prediction_directory / LOADED_FILE, "wb") as file:
        pickle.dump(result, file)


# -- scoring -------------------------------------------------------------------------------------


def _score(job: ModuleJob, events: Events, crunch_run: CrunchRun) -> None:
    scoring = _module(job, "scoring")
    metrics = [_metric(value) for value in job.metrics]
    values = {
        "phase_type": PhaseType.SUBMISSION,
        "chain_height": int(job.context.get("chainHeight", 1)),
        "prediction_directory_path": str(job.prediction_directory),
        "data_directory_path": str(job.data_directory),
        "target_names": sorted({metric.target.name for metric in metrics}),
        "target_and_metrics": group_metrics_by_target(metrics),
        "crunch_run": crunch_run,
    }
    check = getattr(scoring, "check", None)
    try:
        if callable(check):
            with events.framing("check"):
                call_function(check, values)
        if job.command == "check":  # `crunch organizer ... scoring check`
            events.send(type="scored", metrics=[])
            return
        with events.framing("score"):
            scores = validate_scores(
                call_function(_function(scoring, "scoring.py", "score"), values), metrics
            )
    except FileNotFoundError as error:
        if not job.context.get("isLocal", True):
            raise
        # What only the hub holds (its hidden files) is not in a competitor's data.
        reason = f"needs {Path(str(error.filename)).name}, which only the hub has"
        events.send(type="scored", metrics=[_unscored(metric, reason) for metric in metrics])
        return
    events.send(
        type="scored",
        metrics=[
            {
                "id": metric.id,
                "name": metric.name,
                "target": metric.target.name,
                "value": scores[metric.id].value if metric.id in scores else None,
                "details": [detail.to_dict() for detail in scores[metric.id].details]
                if metric.id in scores
                else [],
            }
            for metric in metrics
        ],
    )


def _unscored(metric: Metric, reason: str) -> dict[str, Any]:
    return {
        "id": metric.id,
        "name": metric.name,
        "target": metric.target.name,
        "value": None,
        "details": [],
        "error": reason,
    }


def _metric(value: Any) -> Metric:
    metric = Metric.from_dict(value)
    metric.target = Target.from_dict(value["target"])
    return metric


# -- shared --------------------------------------------------------------------------------------


def _module(job: ModuleJob, kind: str) -> types.ModuleType:
    path = job.modules.get(kind)
    if path is None:
        raise ProtocolError(f"the competition has no {kind}.py")
    return load_source(path)


def _function(module: types.ModuleType, file: str, name: str) -> Callable[..., Any]:
    function = getattr(module, name, None)
    if not callable(function):
        raise ProtocolError(f"{file} has no `{name}` function")
    return function  # type: ignore[no-any-return]  # checked callable just above


def _plain(value: Any) -> Any:
    """Parameters travel as JSON: what is not JSON is sent as its text, as crunch-cli would
    fail on it anyway."""
    return json.loads(json.dumps(value, default=str))


def _organizer_frame(error: BaseException, job: ModuleJob) -> traceback.FrameSummary | None:
    files = {str(path) for path in job.modules.values()}
    frames = [
        frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename in files
    ]
    return frames[-1] if frames else None


def _innermost_is_participant(error: BaseException, spec: RunSpec, job: ModuleJob) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    code = str(spec.code_directory or spec.main_file.parent)
    modules = {str(path) for path in job.modules.values()}
    return (
        bool(frames) and frames[-1].filename not in modules and frames[-1].filename.startswith(code)
    )


def _describe(error: BaseException, spec: RunSpec, job: ModuleJob) -> str:
    summary = traceback.format_exception_only(type(error), error)[-1].strip()
    if job.role == "execute" and _innermost_is_participant(error, spec, job):
        return f"{job.command} raised {summary}"
    frame = _organizer_frame(error, job)
    if frame is None:
        return f"{job.role} raised {summary}"
    return f"{Path(frame.filename).name}, {frame.name}(), line {frame.lineno} raised {summary}"


def _print_traceback(error: BaseException, spec: RunSpec, job: ModuleJob) -> None:
    """The participant's frames only when their code failed; the organizer's otherwise."""
    from crunch_cli.runner.child import print_user_traceback

    if job.role == "execute" and _innermost_is_participant(error, spec, job):
        modules = {str(path) for path in job.modules.values()}
        code = str(spec.code_directory or spec.main_file.parent)
        tb = error.__traceback__
        while tb is not None and (
            tb.tb_frame.f_code.co_filename in modules
            or not tb.tb_frame.f_code.co_filename.startswith(code)
        ):
            tb = tb.tb_next
        error = error.with_traceback(tb)
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
        sys.stderr.flush()
        return
    print_user_traceback(error)
