"""The parent side of a run: start the child, stream its output, enforce the limits.

One loop watches three pipes (the child's stdout, its stderr, and the event pipe) and,
between reads, samples the memory of the child's process tree and the phase clock. The
child runs in its own session, so a Ctrl-C in the terminal reaches only the parent, which
then stops the whole tree itself instead of leaving half-killed user code behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crunch_cli.runner import network
from crunch_cli.runner.gpu import detect_gpu
from crunch_cli.runner.spec import MIB, ExitReason, PhaseTiming, RunResult, RunSpec, Score

if TYPE_CHECKING:
    from crunch_cli.runner.checks import CheckFailure

OutputCallback = Callable[[str, str], None]
"""Receives (source, line): source is "stdout" or "stderr" of the child, or "runner"."""

_SAMPLE_SECONDS = 0.1
_GRACE_SECONDS = 3.0
_NETWORK_LINES = {
    network.NAMESPACE: "network: blocked (the code runs in its own network namespace)",
    network.SOCKET_GUARD: "network: blocked (socket guard; network namespaces are unavailable)",
    network.ALLOWED: "network: allowed",
}


def run(
    spec: RunSpec,
    on_output: OutputCallback | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run the user's code as `spec` says; a failure is reported in the result, not raised.

    `stop`, when set from another thread, terminates the run (exit reason "terminated").
    A KeyboardInterrupt stops the child's whole process tree, then propagates.
    """
    emit = on_output or (lambda _source, _line: None)
    has_gpu = detect_gpu() if spec.has_gpu is None else spec.has_gpu
    mechanism, prefix = network.choose(spec.network)
    emit("runner", _NETWORK_LINES[mechanism])
    if spec.hidden_paths:
        hiding = (
            network.hiding_prefix(spec.hidden_paths) if mechanism == network.NAMESPACE else None
        )
        if hiding is None:
            emit("runner", "files: the host's files stay visible (no mount namespace here)")
        else:
            prefix = hiding
            emit("runner", "files: only the submission and its data are visible")
    spec = dataclasses.replace(spec, has_gpu=has_gpu)
    spec.model_dir.mkdir(parents=True, exist_ok=True)
    spec.prediction_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="crunch-run-") as scratch:
        job = Path(scratch) / "job.json"
        job.write_text(
            json.dumps({"spec": spec.to_json(), "socketGuard": mechanism == network.SOCKET_GUARD})
        )
        read_fd, write_fd = os.pipe()
        try:
            child = subprocess.Popen(
                [
                    *prefix,
                    str(spec.python or sys.executable),
                    "-m",
                    "crunch_cli.runner.child",
                    str(job),
                    str(write_fd),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                start_new_session=True,
                cwd=spec.working_directory or spec.main_file.parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **spec.environment},
            )
        finally:
            os.close(write_fd)
        with os.fdopen(read_fd, "rb") as events:
            watch = _Watch(spec, child, events, emit, stop)
            watch.loop()
    return watch.result(mechanism, has_gpu)


class _Watch:
    """The state of one running child, advanced by `loop`."""

    def __init__(
        self,
        spec: RunSpec,
        child: subprocess.Popen[bytes],
        events: IO[bytes],
        emit: OutputCallback,
        stop: threading.Event | None,
    ) -> None:
        self.spec = spec
        self.child = child
        self.emit = emit
        self.stop = stop
        self.started = time.monotonic()
        self.ended = self.started
        self.phases: dict[str, PhaseTiming] = {}
        self.phase: tuple[str, Any, float] | None = None
        self.peak_rss = 0
        self.parent_peak_rss = _own_rss()
        self.exit_reason: ExitReason | None = None
        self.error: str | None = None
        self.deterministic: bool | None = None
        self.failures: list[CheckFailure] = []
        self.score: Score | None = None
        self.determinism_difference: str | None = None
        self.exit_code: int | None = None
        self._next_sample = 0.0
        assert child.stdout is not None and child.stderr is not None
        self._sources: dict[int, tuple[str, bytearray]] = {
            child.stdout.fileno(): ("stdout", bytearray()),
            child.stderr.fileno(): ("stderr", bytearray()),
            events.fileno(): ("events", bytearray()),
        }

    def loop(self) -> None:
        selector = selectors.DefaultSelector()
        for fd in self._sources:
            selector.register(fd, selectors.EVENT_READ)
        try:
            while True:
                if selector.get_map():
                    for key, _ in selector.select(_SAMPLE_SECONDS):
                        self._read(selector, key.fd)
                else:
                    time.sleep(0.01)  # pipes closed, interpreter still finishing
                if self.exit_code is None:
                    self._reap()
                if self.exit_code is None:
                    self._enforce()
                elif not selector.get_map() or not selector.select(0):
                    break  # exited and drained; a leftover grandchild may hold the pipes
        except KeyboardInterrupt:
            self._kill("terminated", "the run was interrupted", graceful=True)
            raise
        finally:
            selector.close()
            self._kill_tree(signal.SIGKILL)
            if self.exit_code is None:
                self._reap(block=True)
            for source, buffer in self._sources.values():
                if buffer:
                    self._line(source, bytes(buffer))
            for pipe in (self.child.stdout, self.child.stderr):
                if pipe is not None:
                    pipe.close()

    def _read(self, selector: selectors.BaseSelector, fd: int) -> None:
        source, buffer = self._sources[fd]
        data = os.read(fd, 1 << 16)
        if not data:
            selector.unregister(fd)
            return
        buffer.extend(data)
        *lines, rest = buffer.split(b"\n")
        buffer[:] = rest
        for line in lines:
            self._line(source, bytes(line))

    def _line(self, source: str, line: bytes) -> None:
        if source != "events":
            self.emit(source, line.decode("utf-8", "replace").rstrip("\r"))
            return
        event = json.loads(line)
        now = time.monotonic()
        if event["type"] == "start":
            self.phase = (event["phase"], event.get("moon"), now)
        elif event["type"] == "end" and self.phase is not None:
            timing = self.phases.setdefault(self.phase[0], PhaseTiming())
            timing.calls += 1
            timing.seconds += now - self.phase[2]
            self.phase = None
        elif event["type"] == "failure":
            self.error = event["message"]
        elif event["type"] == "judged":
            from crunch_cli.runner.checks import CheckFailure

            self.failures = [CheckFailure.from_json(failure) for failure in event["failures"]]
            self.score = None if event["score"] is None else Score(**event["score"])
        elif event["type"] == "determinism":
            self.deterministic = event["difference"] is None
            self.determinism_difference = event["difference"]

    def _reap(self, *, block: bool = False) -> None:
        pid, status = os.waitpid(self.child.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        self.ended = time.monotonic()
        self.exit_code = self.child.returncode = os.waitstatus_to_exitcode(status)

    def _enforce(self) -> None:
        now = time.monotonic()
        if self.exit_reason is not None:
            return  # already being killed
        if self.stop is not None and self.stop.is_set():
            self._kill("terminated", "the run was stopped", graceful=True)
            return
        limit = self.spec.timeout
        if limit is not None and self.phase is not None and now - self.phase[2] > limit:
            self._kill("timeout", f"{self._phase_name()} ran past the {limit:g} s timeout")
            return
        total = self.spec.total_timeout
        if total is not None and now - self.started > total:
            self._kill("timeout", f"the run went past its {total:g} s time limit")
            return
        if now < self._next_sample:
            return
        self._next_sample = now + _SAMPLE_SECONDS
        rss = _tree_rss(self.child.pid)
        self.peak_rss = max(self.peak_rss, rss)
        self.parent_peak_rss = max(self.parent_peak_rss, _own_rss())
        limit_bytes = self.spec.memory_limit
        if limit_bytes is not None and rss > limit_bytes:
            self._kill(
                "memory",
                f"{self._phase_name()} used {rss / MIB:.0f} MiB, past the memory limit of "
                f"{limit_bytes / MIB:.0f} MiB",
            )

    def _phase_name(self) -> str:
        if self.phase is None:
            return "the code"
        name, moon, _ = self.phase
        label = {
            "import": f"importing {self.spec.main_file.name}",
            "load": "loading the data",
            "determinism": "infer() (determinism check)",
        }
        text = label.get(name, f"{name}()")
        return text if moon is None else f"{text} (moon {moon})"

    def _kill(self, reason: ExitReason, message: str, *, graceful: bool = False) -> None:
        self.exit_reason = reason
        self.error = message
        if graceful:
            self._kill_tree(signal.SIGTERM)
            deadline = time.monotonic() + _GRACE_SECONDS
            while self.exit_code is None and time.monotonic() < deadline:
                self._reap()
                time.sleep(0.05)
        self._kill_tree(signal.SIGKILL)

    def _kill_tree(self, signal_number: int) -> None:
        import psutil

        with contextlib.suppress(psutil.Error):
            for process in psutil.Process(self.child.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    process.send_signal(signal_number)
        with contextlib.suppress(OSError):
            os.killpg(self.child.pid, signal_number)

    def result(self, mechanism: str, has_gpu: bool) -> RunResult:
        predictions = self.spec.prediction_path
        if self.exit_reason is None and self.exit_code != 0:
            self.exit_reason = "error"
            if self.error is None:
                self.error = _describe_exit(self.exit_code)
        if self.exit_reason is None and not predictions.is_file():
            self.exit_reason = "error"
            self.error = "the run ended without writing its predictions"
        return RunResult(
            predictions_path=predictions if self.exit_reason is None else None,
            exit_reason=self.exit_reason,
            error=self.error,
            phases=self.phases,
            wall_seconds=self.ended - self.started,
            peak_rss=self.peak_rss,
            parent_peak_rss=max(self.parent_peak_rss, _own_rss()),
            network=mechanism,
            has_gpu=has_gpu,
            exit_code=self.exit_code,
            deterministic=self.deterministic,
            determinism_difference=self.determinism_difference,
            failures=self.failures,
            score=self.score,
        )


def _own_rss() -> int:
    """Sampled, not getrusage: a process started by a big one inherits its peak RSS."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return f"the code was killed by {name}{hint}"
    return f"the code exited with status {code}"
