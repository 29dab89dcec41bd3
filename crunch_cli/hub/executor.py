"""The worker pool that executes queued runs, oldest first, through the pipeline of
`crunch test` (crunch_cli.modules.pipeline, via `module_runs`).

Each run gets a fresh folder `<root>/runs/<id>/`: `code/` holds the submission's files
(code at the root, model files under its model directory) and is the working directory;
`output/` receives the predictions. The run executes in a bubblewrap sandbox
(crunch_cli.runner.sandbox) that sees `code/` as /submission, `output/` as /output and the
training data and test features, read-only, under /data: hard links to the stored blobs,
so no copy of the hidden data is ever written. Nothing else of the hub's folder exists in
the sandbox. The hidden targets never reach it: the scoring (the hub itself for a built-in
format, a sandbox of its own for an organizer's module) judges the predictions the child
wrote, so a submission cannot grade itself. The folder is removed afterwards, and at
start-up for runs a killed hub left behind.

Without a sandbox (`--unsafe-no-sandbox`, for trusted code only) the data files are
read-only copies, and every run's log says that the submission could reach the hub's files.

The queue lives in the database, so it survives restarts; a worker wakes when a run is
created here, and every `POLL_SECONDS` for runs queued by another process. Several hubs
may serve one root: each claims runs atomically, holds a lock file while it lives (so a
hub starting up fails only the runs of hubs that are gone), and stops its runs when any
of them records a termination.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import os
import shutil
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy import select

from crunch_cli.errors import SandboxError
from crunch_cli.hub import environments, module_runs, runs
from crunch_cli.hub.models import Competition, Run
from crunch_cli.hub.module_runs import ModuleInputs
from crunch_cli.hub.runlogs import LogSink
from crunch_cli.hub.runs import Outcome
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.submissions import MAX_REQUIREMENTS_SIZE, REQUIREMENTS_FILE, workspace_path
from crunch_cli.runner import sandbox
from crunch_cli.runner.checks import Check
from crunch_cli.runner.spec import MIB, ColumnNames, Format, Judging, RunSpec

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
TERMINATION_POLL_SECONDS = 0.5
WORKERS_DIRECTORY = ".workers"
TERMINATE_WAIT_SECONDS = 10.0
FINISH_RETRY_SECONDS = (0.5, 2.0, 5.0, 15.0)
# CPython 3.11 (3.11.7 here) can fail `ast.parse` on two threads at once ("AST constructor
# recursion depth mismatch"): workers convert notebooks one at a time.
_CONVERTING = threading.Lock()
PREDICTION_FILE = "prediction.parquet"
# Where a sandboxed run sees its folders.
INSIDE_CODE = Path("/submission")
INSIDE_OUTPUT = Path("/output")
INSIDE_NOTEBOOK = Path("/notebook")
# Generous for any real model (thread pools of every library on a big machine included),
# tight for a fork bomb or a descriptor leak.
MAX_PROCESSES = 1024
MAX_OPEN_FILES = 4096
MIN_WRITE_BYTES = 1024 * MIB


@dataclasses.dataclass
class _Active:
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)


class Executor:
    """`workers` threads; `start()` once the store is open, `stop()` before closing it."""

    def __init__(self, store: HubStore, workers: int) -> None:
        """Refuses (`SandboxError`) to run submissions where no sandbox can hold them,
        unless the organizer turned the sandbox off: better no hub than a leaking one."""
        if workers and store.settings.sandbox:
            problem = sandbox.bubblewrap_problem()
            if problem is not None:
                raise SandboxError(
                    f"the hub cannot run submissions in a sandbox: {problem}",
                    hint=f"{sandbox.INSTALL_HINT}; or serve with --workers 0 (no runs), or "
                    "--unsafe-no-sandbox for trusted code only",
                )
        self.store = store
        self.workers = workers
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._liveness: IO[str] | None = None
        self._lock = threading.Lock()
        self._active: dict[int, _Active] = {}
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        path = _liveness_path(self.store, self.worker_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._liveness = open(path, "w")  # noqa: SIM115 -- held until stop()
        fcntl.flock(self._liveness, fcntl.LOCK_EX)
        runs.recover(self.store, lambda worker: _worker_alive(self.store, worker))
        _remove_stale_folders(self.store, lambda worker: _worker_alive(self.store, worker))
        for number in range(self.workers):
            thread = threading.Thread(
                target=self._work, name=f"crunch-hub-worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A run was queued: look now rather than at the next poll."""
        self._wakeup.set()

    def terminate(self, run_id: int, wait: float = TERMINATE_WAIT_SECONDS) -> None:
        """Stop a run a worker holds, and wait (a little) until it is recorded as ended."""
        with self._lock:
            active = self._active.get(run_id)
        if active is not None:
            active.stop.set()
            active.done.wait(wait)

    def stop(self, wait: float = TERMINATE_WAIT_SECONDS) -> None:
        """Stop the workers; a run in progress is stopped and recorded as failed."""
        self._stopping.set()
        self._wakeup.set()
        with self._lock:
            for active in self._active.values():
                active.stop.set()
        deadline = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._liveness is not None:
            _liveness_path(self.store, self.worker_id).unlink(missing_ok=True)
            self._liveness.close()
            self._liveness = None

    def _work(self) -> None:
        """Whatever fails (a busy database, a full disk, a run that cannot be recorded),
        the worker logs it and carries on at the next poll: a dead worker is a silent
        queue."""
        while not self._stopping.is_set():
            self._wakeup.clear()
            try:
                claimed = self._claim()
            except Exception:
                logger.exception("could not take the next queued run")
                claimed = None
            if claimed is None:
                self._wakeup.wait(POLL_SECONDS)
                continue
            run_id, active = claimed
            try:
                execute(self.store, run_id, active.stop, self._stopping)
            except Exception:
                logger.exception("run %s could not be recorded", run_id)
            finally:
                with self._lock:
                    del self._active[run_id]
                active.done.set()

    def _claim(self) -> tuple[int, _Active] | None:
        # Under the lock, so `terminate` finds a run as soon as it is no longer queued.
        with self._lock:
            if self._stopping.is_set():
                return None
            run_id = runs.next_queued(self.store, self.worker_id)
            if run_id is None:
                return None
            active = self._active[run_id] = _Active()
            return run_id, active


def _liveness_path(store: HubStore, worker: str) -> Path:
    return store.settings.runs_dir / WORKERS_DIRECTORY / f"{worker.rsplit(':', 1)[-1]}.lock"


def _worker_alive(store: HubStore, worker: str) -> bool:
    """Whether the hub process that took a run still holds its lock file; a hub on another
    machine cannot be checked from here, so it counts as alive.
    """
    if worker.split(":", 1)[0] != socket.gethostname():
        return True
    path = _liveness_path(store, worker)
    try:
        handle = open(path)  # noqa: SIM115 -- closed below, after the probe
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        path.unlink(missing_ok=True)
        return False


# -- one run ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Blob:
    """A stored file and the sha256 it must still have when it is used."""

    key: str
    sha256: str
    path: Path


@dataclasses.dataclass(frozen=True)
class _Job:
    """What the database says about a run, read once before it starts."""

    run_id: int
    submission_number: int
    files: dict[str, _Blob]  # by workspace path
    main_file: str
    model_directory: str
    requirements: str | None
    inputs: ModuleInputs
    format: Format
    columns: ColumnNames
    embargo: int
    number_of_features: int
    train_frequency: int
    force_first_train: bool
    time_limit: int
    memory_limit_mb: int
    max_model_size: int


def execute(
    store: HubStore, run_id: int, stop: threading.Event, hub_stopping: threading.Event
) -> None:
    """Run one claimed run to its end and record the outcome; never raises for the
    submission's faults, which are the run's result.
    """
    folder = store.settings.runs_dir / str(run_id)
    log = LogSink(
        store,
        run_id,
        {
            folder / "code": str(INSIDE_CODE),
            folder / "output": str(INSIDE_OUTPUT),
            folder / "notebook": str(INSIDE_NOTEBOOK),
            folder: "/run",
            store.settings.root: "/hub",
        },
    )
    ended = threading.Event()
    watcher = threading.Thread(
        target=_watch_termination, args=(store, run_id, stop, ended), daemon=True
    )
    watcher.start()
    try:
        outcome = _execute(store, run_id, folder, log, stop)
    except Exception as error:
        logger.exception("run %s failed inside the hub", run_id)
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        outcome = Outcome(False, "error", f"the hub could not run this submission: {message}")
        if not stop.is_set():
            log.hub(outcome.error_message or "", error=True)
    if stop.is_set() and not outcome.success:
        if hub_stopping.is_set():
            outcome = Outcome(False, "error", runs.HUB_STOPPED, outcome.exit_code)
            log.hub(runs.HUB_STOPPED, error=True)
        else:
            outcome = Outcome(False, "terminated", runs.TERMINATED_MESSAGE, outcome.exit_code)
    if outcome.error_message is not None:
        outcome = dataclasses.replace(outcome, error_message=log.hide(outcome.error_message))
    ended.set()
    watcher.join()
    log.close()  # every line is stored before the run reads as completed
    _finish(store, run_id, outcome)
    _remove(folder)


def _finish(store: HubStore, run_id: int, outcome: Outcome) -> None:
    """Record the end of the run, trying again while the database is busy: a run that
    stayed RUNNING would be taken for a live one until the hub restarts."""
    for delay in FINISH_RETRY_SECONDS:
        try:
            runs.finish(store, run_id, outcome)
            return
        except Exception:
            logger.exception("could not record the end of run %s; trying again", run_id)
            time.sleep(delay)
    runs.finish(store, run_id, outcome)


def _watch_termination(
    store: HubStore, run_id: int, stop: threading.Event, ended: threading.Event
) -> None:
    """Stop the run when its termination is recorded, whichever hub process received it."""
    while not ended.wait(TERMINATION_POLL_SECONDS):
        try:
            if runs.termination_requested(store, run_id):
                stop.set()
                return
        except Exception:  # a busy database: ask again at the next tick
            logger.exception("could not read the state of run %s", run_id)


def _execute(
    store: HubStore, run_id: int, folder: Path, log: LogSink, stop: threading.Event
) -> Outcome:
    job = _load(store, run_id)
    log.hub(
        f"run {run_id}: submission #{job.submission_number}, time limit {job.time_limit} s, "
        f"memory limit {job.memory_limit_mb} MiB"
    )
    _remove(folder)  # left over by a hub that stopped half-way
    spec = _prepare(store, job, folder)
    python = environments.python_for(
        job.requirements,
        store.settings.environments_dir,
        log.hub,
        stop,
        sandboxed=store.settings.sandbox,
    )
    if stop.is_set() or not runs.mark_running(store, run_id):
        return Outcome(False, "terminated", runs.TERMINATED_MESSAGE)
    if python is not None:
        spec = dataclasses.replace(spec, python=python)
    from crunch_cli.modules.pipeline import run_modules

    outcome = module_runs.run(
        store,
        job.run_id,
        job.inputs,
        spec,
        folder,
        context={
            "timeout": job.time_limit,
            "trainFrequency": job.train_frequency,
            "forceFirstTrain": job.force_first_train,
            "chainHeight": 1,
            "determinismCheck": False,
        },
        run_process=lambda module_run: run_modules(module_run, log.output, stop),
        note=log.hub,
    )
    runs.mark_cleaning(store, job.run_id)
    if not outcome.success:
        log.hub(f"the run failed ({outcome.exit_reason}): {outcome.error_message}", error=True)
    return outcome


def _load(store: HubStore, run_id: int) -> _Job:
    with store.session(write=False) as session:
        row = session.get(Run, run_id)
        assert row is not None
        submission = row.submission
        competition: Competition = submission.project.competition
        files = {
            workspace_path(submission, item): _blob(store, item.blob_key, item.sha256)
            for item in submission.files
        }
        requirements = None
        if (stored := files.get(REQUIREMENTS_FILE)) is not None:
            text = store.blobs.read_verified(stored.key, stored.sha256, MAX_REQUIREMENTS_SIZE)
            requirements = text.decode("utf-8", "replace")
        judging = None
        if competition.format != Format.UNSTRUCTURED.value:
            checks = tuple(
                Check(check.function, check.scope, check.order, dict(check.parameters))
                for check in competition.checks
            )
            judging = Judging(checks=checks, metric=row.metric)
        return _Job(
            run_id=run_id,
            submission_number=submission.number,
            files=files,
            main_file=submission.main_file_path,
            model_directory=submission.model_directory_path,
            requirements=requirements,
            inputs=module_runs.read_inputs(store, session, competition, judging),
            format=Format(competition.format),
            columns=ColumnNames(
                id=competition.id_column,
                moon=competition.moon_column,
                target=competition.target_column,
                prediction=competition.prediction_column,
            ),
            embargo=competition.embargo,
            number_of_features=len(competition.features),
            train_frequency=row.train_frequency,
            force_first_train=row.force_first_train,
            time_limit=competition.run_time_limit_seconds,
            memory_limit_mb=competition.run_memory_limit_mb,
            max_model_size=competition.max_model_size,
        )


def _blob(store: HubStore, key: str, sha256: str) -> _Blob:
    return _Blob(key, sha256, store.blobs.local_file(key, sha256))


def _prepare(store: HubStore, job: _Job, folder: Path) -> RunSpec:
    """The run's folder, with every file checked against its sha256 on the way in: a blob
    changed on disk fails the run rather than run or score other bytes."""
    code, output = folder / "code", folder / "output"
    for path, stored in job.files.items():
        target = code / PurePosixPath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        store.blobs.copy_verified(stored.key, stored.sha256, target)
    output.mkdir(parents=True)
    main_file = code / job.main_file
    if main_file.suffix == ".ipynb":
        from crunch_cli.runner.local import convert_notebook_file

        with _CONVERTING:
            main_file, _warnings = convert_notebook_file(main_file, folder / "notebook")
    sandboxed = store.settings.sandbox
    view = {code: INSIDE_CODE, output: INSIDE_OUTPUT, folder / "notebook": INSIDE_NOTEBOOK}
    return RunSpec(
        main_file=main_file,
        model_dir=code / job.model_directory,
        data=None,  # laid out with the modules (module_runs)
        format=job.format,
        prediction_path=output / PREDICTION_FILE,
        columns=job.columns,
        working_directory=code,
        code_directory=code,
        embargo=job.embargo,
        number_of_features=job.number_of_features,
        train_frequency=job.train_frequency,
        force_first_train=job.force_first_train,
        total_timeout=job.time_limit,
        memory_limit=job.memory_limit_mb * MIB,
        network=False,
        sandbox="required" if sandboxed else "off",
        sandbox_view=view,
        private_paths=(store.settings.root,),
        max_processes=MAX_PROCESSES,
        max_open_files=MAX_OPEN_FILES,
        max_written_bytes=max(MIN_WRITE_BYTES, 2 * job.max_model_size),
        cpu_time_limit=job.time_limit * (os.cpu_count() or 1),
    )


def _remove_stale_folders(store: HubStore, worker_alive: Callable[[str], bool]) -> None:
    """A hub killed mid-run leaves its run folders (the submission's code, an unsandboxed
    run's data copies) behind: remove every one whose run no live hub process holds."""
    runs_dir = store.settings.runs_dir
    if not runs_dir.is_dir():
        return
    folders = {
        int(path.name): path
        for path in runs_dir.iterdir()
        if path.name.isascii() and path.name.isdigit()
    }
    with store.session(write=False) as session:
        held = {
            row.id
            for row in session.scalars(
                select(Run).where(Run.id.in_(folders), Run.status.in_(runs.ACTIVE))
            )
            if row.worker is not None and worker_alive(row.worker)
        }
    for run_id, path in folders.items():
        if run_id not in held:
            _remove(path)


def _remove(folder: Path) -> None:
    """Delete a run folder, including read-only folders the submission may have made."""
    for directory, _subdirectories, _files in os.walk(folder):
        with contextlib.suppress(OSError):
            Path(directory).chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)
