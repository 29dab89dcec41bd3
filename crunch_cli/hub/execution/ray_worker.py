"""The worker's side of `--executor ray`: one run attempt, in a Ray actor of its own.

`RunAttempt` is a plain class; the hub makes it a detached Ray actor (`ray_executor`), so
it lives on whichever node Ray placed it, with the CPUs, memory and GPU the run asked for,
and outlives the hub process that created it. Its constructor starts the job on a thread
(`perform`, the very code the hub's own pool runs) and returns at once; the hub then calls
`drain` every fraction of a second, and `stop` to terminate the run.

Log lines travel back in `drain`'s answers (batched returns), not through a queue actor:
the actor that runs the job already is the one place that knows its lines, its start and
its outcome, so one call brings all three, in order, and the outcome only ever arrives
with the last lines. A hub that restarts finds the actor again by its name and drains what
it has not acknowledged; nothing else (a shared queue actor, its own failure) is needed.
Lines wait here until acknowledged: the first `HEAD_LINES` of the run always, then at most
`TAIL_LINES`, the older ones counted as left out, as the hub's stored log does anyway.

The worker needs no access to the hub's disk or database: the job names every file by its
sha256 and a signed URL (`FetchedFiles`), fetched into `<worker dir>/blob-cache` and
verified before use. The worker folder is `CRUNCH_HUB_WORKER_DIR` (default: a folder in
the system's temporary folder); runs execute in `<worker dir>/runs/`, and the whole
folder is kept out of the sandbox, like the hub's root.

`has_gpu` is true exactly when Ray gave the run a GPU and this machine shows one (the
NVIDIA driver and a device, `detect_gpu`): a worker that only advertises a GPU to Ray
(`ray start --num-gpus 1` without one) schedules `gpu` runs, but they run without a GPU,
and their log says so.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from crunch_cli.hub.execution.files import FetchedFiles
from crunch_cli.hub.execution.job import GPU, MAX_ATTEMPTS, Job, Outcome
from crunch_cli.hub.execution.perform import Place, perform
from crunch_cli.runner.gpu import detect_gpu

WORKER_DIR_VARIABLE = "CRUNCH_HUB_WORKER_DIR"
# As many as the hub's stored log keeps (`crunch_cli.hub.runlogs`, not imported: it brings
# the database stack, which a worker never uses).
HEAD_LINES, TAIL_LINES = 1_000, 4_000
INSIDE_WORKER = "/worker"
NO_DEVICE = (
    "Ray gave this run a GPU, but this worker shows no NVIDIA device: the run goes on "
    "without one (has_gpu is false); check the worker's --num-gpus and its driver"
)

# One pending line: (number, kind, source or None, text, error); kind "hub" or "output".
_Line = tuple[int, str, str | None, str, bool]


def worker_dir() -> Path:
    given = os.environ.get(WORKER_DIR_VARIABLE)
    if given:
        return Path(given).expanduser().absolute()
    return Path(tempfile.gettempdir()) / f"crunch-hub-worker-{os.getuid()}"


class RunAttempt:
    """One attempt of one run (see the module docstring)."""

    def __init__(self, job: dict[str, Any], sandboxed: bool) -> None:
        import ray

        self._job = Job.from_json(job)
        self._folder = worker_dir()
        self._sandboxed = sandboxed
        self._gpu_ids = [str(gpu) for gpu in ray.get_gpu_ids()]
        self._lock = threading.Lock()
        self._head: list[_Line] = []
        self._tail: deque[_Line] = deque()
        self._count = 0
        self._left_out = 0
        self._started = False
        self._outcome: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crunch-run", daemon=True)
        self._thread.start()

    def drain(self, acknowledged: int) -> dict[str, Any]:
        """The lines numbered from `acknowledged` on (those before are forgotten), whether
        the submission's code has started, and the outcome once there is one."""
        with self._lock:
            self._head = [line for line in self._head if line[0] >= acknowledged]
            while self._tail and self._tail[0][0] < acknowledged:
                self._tail.popleft()
            left_out, self._left_out = self._left_out, 0
            return {
                "lines": [*self._head, *self._tail],
                "next": self._count,
                "leftOut": left_out,
                "started": self._started,
                "outcome": self._outcome,
            }

    def stop(self) -> None:
        self._stop.set()

    def pid(self) -> int:
        return os.getpid()

    # -- the Reporter `perform` writes to ---------------------------------------------

    def output(self, source: str, line: str) -> None:
        self._add("output", source, self._hide(line), source == "stderr")

    def hub(self, line: str, error: bool = False) -> None:
        self._add("hub", None, self._hide(line), error)

    def _hide(self, text: str) -> str:
        """The worker's folder as `/worker`: its paths are nobody's business."""
        return text.replace(str(self._folder), INSIDE_WORKER)

    def starting(self) -> bool:
        with self._lock:
            self._started = True
        return not self._stop.is_set()

    def _add(self, kind: str, source: str | None, text: str, error: bool) -> None:
        with self._lock:
            line = (self._count, kind, source, text, error)
            self._count += 1
            if line[0] < HEAD_LINES:
                self._head.append(line)
                return
            self._tail.append(line)
            if len(self._tail) > TAIL_LINES:
                self._tail.popleft()
                self._left_out += 1

    def _run(self) -> None:
        job = self._job
        try:
            outcome = self._perform(job)
        except Exception as error:
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            outcome = Outcome(
                False, "error", f"the worker could not run this submission: {message}"
            )
            if not self._stop.is_set():
                self.hub(outcome.error_message or "", error=True)
        with self._lock:
            self._outcome = dataclasses.asdict(outcome)

    def _perform(self, job: Job) -> Outcome:
        folder = self._folder
        gpu = job.runtime == GPU
        has_gpu = gpu and bool(self._gpu_ids) and detect_gpu()
        given = f", GPU {','.join(self._gpu_ids)}" if gpu else ""
        self.hub(
            f"attempt {job.attempt} of {MAX_ATTEMPTS} on Ray worker process {os.getpid()} "
            f"({os.uname().nodename}): {job.limits.cpus} CPU, {job.limits.memory_mb} MiB{given}"
        )
        if gpu and not has_gpu:
            self.hub(NO_DEVICE, error=True)
        place = Place(
            folder=folder / "runs" / f"{job.run_id}-{job.attempt}-{uuid.uuid4().hex[:8]}",
            files=FetchedFiles(folder / "blob-cache"),
            environments_dir=folder / "environments",
            private=(folder,),
            sandboxed=self._sandboxed,
            cpus=job.limits.cpus,
            has_gpu=has_gpu,
        )
        return perform(job, place, self, self._stop)
