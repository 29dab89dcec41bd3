"""The executor: takes queued runs, oldest first, executes them and records how they ended.

The queue lives in the database, so it survives restarts; the dispatcher wakes when a run
is created here, and every `POLL_SECONDS` for runs queued by another process. It keeps at
most `workers` runs in flight. Each claimed run is read into a plain `Job`
(`crunch_cli.hub.execution.build`) and handed to a backend:

- `local` (the default): a thread of this process runs the job in `<root>/runs/<id>/`
  with `crunch_cli.hub.execution.perform`, reading the hub's own store;
- `ray` (`--executor ray`): the job runs on a Ray cluster
  (`crunch_cli.hub.execution.ray_executor`), which fetches its files through signed URLs.

Either way the run's lines go to its `LogSink`, a termination recorded by any hub process
stops it, and the outcome is recorded here. Several hubs may serve one root: each claims
runs atomically, holds a lock file while it lives (so a hub starting up recovers only the
runs of hubs that are gone), and stops its runs when any of them records a termination.
On PostgreSQL only one of them claims runs at a time, the one elected scheduler
(`crunch_cli.hub.election`); the others serve the API and follow the runs they hold.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import select

from crunch_cli.errors import CrunchError, SandboxError
from crunch_cli.hub import runs
from crunch_cli.hub.election import SchedulerElection
from crunch_cli.hub.execution import build
from crunch_cli.hub.execution.files import HubFiles
from crunch_cli.hub.execution.job import GPU, RUNTIMES, TERMINATED_MESSAGE, Job, Outcome
from crunch_cli.hub.execution.perform import Place, perform, remove_folder
from crunch_cli.hub.models import Run
from crunch_cli.hub.runlogs import LogSink
from crunch_cli.hub.store import HubStore
from crunch_cli.runner import sandbox
from crunch_cli.runner.gpu import detect_gpu
from crunch_cli.runner.spec import MIB

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
TERMINATION_POLL_SECONDS = 0.5
WORKERS_DIRECTORY = ".workers"
TERMINATE_WAIT_SECONDS = 10.0
FINISH_RETRY_SECONDS = (0.5, 2.0, 5.0, 15.0)
LOCAL, RAY = "local", "ray"
NO_LOCAL_GPU = "this hub has no GPU, and it runs submissions on its own machine (--executor local)"
# Generous for any real model (thread pools of every library on a big machine included),
# tight for a fork bomb or a descriptor leak.
MAX_PROCESSES = 1024
MAX_OPEN_FILES = 4096
MIN_WRITE_BYTES = 1024 * MIB
EXECUTORS = (LOCAL, RAY)


@dataclasses.dataclass
class Active:
    """A run in flight here. `stop`: end it (terminated, or the hub stopping); `detach`:
    the hub stops but the run goes on elsewhere (a Ray run), to be found again."""

    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    detach: threading.Event = dataclasses.field(default_factory=threading.Event)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)


class Detached(Exception):
    """The run is no longer this thread's to record: the hub stops while it goes on
    elsewhere (found again at the next start), or it went back to the queue."""


class Backend(Protocol):
    """Where jobs execute (see the module docstring)."""

    def start(self, executor: Executor) -> None:
        """Connect, and take back the runs of hub processes that are gone."""
        ...

    def url_for(self) -> build.UrlFor | None:
        """How jobs name their files' download URLs (None: no URLs, the store is local)."""
        ...

    def unable(self) -> dict[str, str]:
        """The runtimes no worker can run now, each with the reason (said to its runs)."""
        ...

    def execute(
        self, job: Job, log: LogSink, active: Active, starting: Callable[[], bool]
    ) -> Outcome:
        """Run `job` to its end; `starting()` records its start (False: do not start).
        Raises `Detached` when `active.detach` is set while the run goes on elsewhere."""
        ...

    def close(self) -> None: ...


class Executor:
    """`start()` once the store is open, `stop()` before closing it."""

    def __init__(self, store: HubStore, workers: int) -> None:
        self.store = store
        self.workers = workers
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self.backend = _backend(store, workers)
        self._liveness: IO[str] | None = None
        self._lock = threading.Lock()
        self._active: dict[int, Active] = {}
        self._threads: list[threading.Thread] = []
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self.election = SchedulerElection(store.engine, on_lead=self.wake)

    @property
    def schedules(self) -> bool:
        """Whether this hub claims queued runs now: it has workers and, on PostgreSQL,
        holds the scheduler's lock."""
        return self.workers > 0 and self.election.leading

    def start(self) -> None:
        path = _liveness_path(self.store, self.worker_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._liveness = open(path, "w")  # noqa: SIM115 -- held until stop()
        fcntl.flock(self._liveness, fcntl.LOCK_EX)
        self.backend.start(self)
        # A hub without workers never stands: elected, it would leave the queue waiting.
        if self.workers:
            self.election.start()
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="crunch-hub-dispatcher", daemon=True
        )
        self._dispatcher.start()

    def worker_alive(self, worker: str) -> bool:
        return _worker_alive(self.store, worker)

    def wake(self) -> None:
        """A run was queued: look now rather than at the next poll."""
        self._wakeup.set()

    def terminate(self, run_id: int, wait: float = TERMINATE_WAIT_SECONDS) -> None:
        """Stop a run held here, and wait (a little) until it is recorded as ended."""
        with self._lock:
            active = self._active.get(run_id)
        if active is not None:
            active.stop.set()
            active.done.wait(wait)

    def stop(self, wait: float = TERMINATE_WAIT_SECONDS) -> None:
        """Stop taking runs; a run in progress here is stopped and recorded as failed, a
        run in progress elsewhere (Ray) is left to go on, for the next start to find."""
        self._stopping.set()
        self._wakeup.set()
        with self._lock:
            for active in self._active.values():
                active.detach.set()
                active.stop.set()
            threads = list(self._threads)
        deadline = time.monotonic() + wait
        if self._dispatcher is not None:
            self._dispatcher.join(max(0.0, deadline - time.monotonic()))
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.election.stop()  # after the dispatcher, which claims nothing more
        self.backend.close()
        if self._liveness is not None:
            _liveness_path(self.store, self.worker_id).unlink(missing_ok=True)
            self._liveness.close()
            self._liveness = None

    def follow(self, run_id: int, target: Callable[[Active], None]) -> None:
        """Hold `run_id` here while `target(active)` runs it on a thread of its own."""
        with self._lock:
            active = self._active[run_id] = Active()

        def hold() -> None:
            try:
                target(active)
            except Exception:
                logger.exception("run %s could not be recorded", run_id)
            finally:
                with self._lock:
                    # A run sent back to the queue may be held again already, by another thread.
                    if self._active.get(run_id) is active:
                        del self._active[run_id]
                    self._threads.remove(threading.current_thread())
                active.done.set()
                self._wakeup.set()

        thread = threading.Thread(target=hold, name=f"crunch-hub-run-{run_id}", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _dispatch(self) -> None:
        """Whatever fails (a busy database, a lost cluster), the dispatcher logs it and
        carries on at the next poll: a dead dispatcher is a silent queue."""
        while not self._stopping.is_set():
            self._wakeup.clear()
            if not self.schedules:
                self._wakeup.wait(POLL_SECONDS)
                continue
            try:
                unable = self.backend.unable()
                runs.review_queue(self.store, unable)
                runtimes = [runtime for runtime in RUNTIMES if runtime not in unable]
                while (run_id := self._claim(runtimes)) is not None:
                    self.follow(run_id, functools.partial(self._execute, run_id))
            except Exception:
                logger.exception("could not take the next queued run")
            self._wakeup.wait(POLL_SECONDS)

    def _claim(self, runtimes: list[str]) -> int | None:
        # Under the lock, so `terminate` finds a run as soon as it is no longer queued.
        with self._lock:
            if self._stopping.is_set() or len(self._active) >= self.workers:
                return None
            return runs.next_queued(self.store, self.worker_id, runtimes)

    def _execute(self, run_id: int, active: Active) -> None:
        def execute(log: LogSink) -> Outcome:
            bounds = build.Bounds(MAX_PROCESSES, MAX_OPEN_FILES, MIN_WRITE_BYTES)
            job = build.load_job(self.store, run_id, bounds, self.backend.url_for())
            if job.modules:
                runs.record_modules(self.store, run_id, job.module_kinds)
            return self.backend.execute(
                job, log, active, lambda: runs.mark_running(self.store, run_id)
            )

        self.run_job(run_id, active, execute)

    def run_job(self, run_id: int, active: Active, execute: Callable[[LogSink], Outcome]) -> None:
        """Execute a run held here with its log and termination watch, and record its end;
        never raises for the submission's faults, which are the run's result."""
        store = self.store
        log = LogSink(store, run_id, {store.settings.root: "/hub"})
        ended = threading.Event()
        watcher = threading.Thread(
            target=_watch_termination, args=(store, run_id, active.stop, ended), daemon=True
        )
        watcher.start()
        try:
            outcome = execute(log)
        except Detached:
            ended.set()
            watcher.join()
            log.close()
            return
        except Exception as error:
            logger.exception("run %s failed inside the hub", run_id)
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            outcome = Outcome(False, "error", f"the hub could not run this submission: {message}")
            if not active.stop.is_set():
                log.hub(outcome.error_message or "", error=True)
        if active.stop.is_set() and not outcome.success:
            if self._stopping.is_set():
                outcome = Outcome(False, "error", runs.HUB_STOPPED, outcome.exit_code)
                log.hub(runs.HUB_STOPPED, error=True)
            else:
                outcome = Outcome(False, "terminated", TERMINATED_MESSAGE, outcome.exit_code)
        if outcome.error_message is not None:
            outcome = dataclasses.replace(outcome, error_message=log.hide(outcome.error_message))
        ended.set()
        watcher.join()
        log.close()  # every line is stored before the run reads as completed
        _finish(store, run_id, outcome)


class LocalBackend:
    """Runs execute on this machine, in `<root>/runs/<id>/`, reading the hub's store. A
    `gpu` run is taken only when this machine has a GPU, which it then gets."""

    def __init__(self, store: HubStore) -> None:
        self.store = store
        self._unable = {} if detect_gpu() else {GPU: NO_LOCAL_GPU}

    def start(self, executor: Executor) -> None:
        runs.recover(self.store, executor.worker_alive)
        _remove_stale_folders(self.store, executor.worker_alive)

    def url_for(self) -> build.UrlFor | None:
        return None

    def unable(self) -> dict[str, str]:
        return dict(self._unable)

    def execute(
        self, job: Job, log: LogSink, active: Active, starting: Callable[[], bool]
    ) -> Outcome:
        settings = self.store.settings
        place = Place(
            folder=settings.runs_dir / str(job.run_id),
            files=HubFiles(self.store.blobs),
            environments_dir=settings.environments_dir,
            private=(settings.root,),
            sandboxed=settings.sandbox,
            cpus=os.cpu_count() or 1,
            has_gpu=job.runtime == GPU,
        )
        outcome = perform(job, place, _Report(log, starting), active.stop)
        runs.mark_cleaning(self.store, job.run_id)
        return outcome

    def close(self) -> None:
        pass


class _Report:
    """A local run's lines go straight to its log."""

    def __init__(self, log: LogSink, starting: Callable[[], bool]) -> None:
        self._log = log
        self._starting = starting

    def output(self, source: str, line: str) -> None:
        self._log.output(source, line)

    def hub(self, line: str, error: bool = False) -> None:
        self._log.hub(line, error)

    def starting(self) -> bool:
        return self._starting()


def _backend(store: HubStore, workers: int) -> Backend:
    """The backend the settings name. The local one refuses (`SandboxError`) to run
    submissions where no sandbox can hold them, unless the organizer turned the sandbox
    off: better no hub than a leaking one. (Ray workers check for themselves.)"""
    settings = store.settings
    if settings.executor == RAY:
        from crunch_cli.hub.execution.ray_executor import RayBackend

        return RayBackend(store)
    if settings.executor != LOCAL:
        raise CrunchError(
            f"unknown executor {settings.executor!r}",
            hint=f"pass --executor with one of: {', '.join(EXECUTORS)}",
        )
    if workers and settings.sandbox:
        problem = sandbox.bubblewrap_problem()
        if problem is not None:
            raise SandboxError(
                f"the hub cannot run submissions in a sandbox: {problem}",
                hint=f"{sandbox.INSTALL_HINT}; or serve with --workers 0 (no runs), or "
                "--unsafe-no-sandbox for trusted code only",
            )
    return LocalBackend(store)


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
            remove_folder(path)
