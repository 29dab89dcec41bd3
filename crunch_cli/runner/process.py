"""The parent side of a run: start the child, stream its output, enforce the limits.

One loop watches three pipes (the child's stdout, its stderr, and the event pipe) and,
between reads, samples the memory of the child's process tree, the bytes it wrote and the
phase clock. The child runs in its own session (and, when bubblewrap is there, in its own
sandbox: crunch_cli.runner.sandbox), so a Ctrl-C in the terminal reaches only the parent,
which then stops the whole tree itself instead of leaving half-killed user code behind.
Everything that comes back from the child is untrusted: lines are cut at a length, and an
event line that is not ours is ignored.

The events also tell the front-end, as they come, what the code is doing (`Progress`), for
an output callback that has a `progress` method. A failure is the child's `failure` event;
a copy of it the child printed as `error: ...` is left out, so the front-end says it once.
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
from typing import IO, TYPE_CHECKING, Any, Literal

from crunch_cli.runner import sandbox
from crunch_cli.runner.gpu import detect_gpu
from crunch_cli.runner.spec import MIB, ExitReason, PhaseTiming, RunResult, RunSpec, Score

if TYPE_CHECKING:
    from crunch_cli.runner.checks import CheckFailure

OutputCallback = Callable[[str, str], None]
"""Receives (source, line): source is "stdout" or "stderr" of the child, or "runner".
A callback with a `progress` method also receives each `Progress` of the run."""
RequestHandler = Callable[[dict[str, Any]], "dict[str, Any] | None"]
"""Answers a child's `request` event (its fields as sent); None: no answer is written."""


@dataclasses.dataclass(frozen=True)
class Progress:
    """One step of a run, as the child reported it; every text is cut short and printable.

    `start`/`end`: a phase (import, load, train, infer, determinism, judge, or a command of
    a competition's runner) begins or ends, `moon` the moon (or stream) it is about;
    `command` marks the end of one command of a competition's own runner. `plan`: `total`
    `unit`s (moons, streams) are to come. `skip`: a `train()` call was left out.
    """

    kind: Literal["start", "end", "plan", "skip"]
    phase: str | None = None
    moon: str | None = None
    total: int | None = None
    unit: str | None = None
    command: bool = False


_MAX_SHOWN = 60
_MAX_TOTAL = 10**9

_SAMPLE_SECONDS = 0.1
_DISK_SAMPLE_SECONDS = 0.5
_GRACE_SECONDS = 3.0
"""How long an `error: ...` line of the child waits for the failure event it may repeat."""
MAX_LINE_BYTES = 64 * 1024
"""A longer line is cut there (and says so): a line without a newline costs linear time."""
_MAX_COUNTED_FILES = 100_000


def run(
    spec: RunSpec,
    on_output: OutputCallback | None = None,
    stop: threading.Event | None = None,
    on_request: RequestHandler | None = None,
) -> RunResult:
    """Run the user's code as `spec` says; a failure is reported in the result, not raised.

    `stop`, when set from another thread, terminates the run (exit reason "terminated").
    A KeyboardInterrupt stops the child's whole process tree, then propagates. Raises
    `SandboxError` when the spec requires a sandbox this machine cannot make.
    `on_request` answers the child's requests (events it asks the parent to act on, such as
    a module run's `execute`); a dict it returns is written back on the child's stdin.
    """
    emit = on_output or (lambda _source, _line: None)
    has_gpu = detect_gpu() if spec.has_gpu is None else spec.has_gpu
    spec = dataclasses.replace(spec, has_gpu=has_gpu)
    spec.model_dir.mkdir(parents=True, exist_ok=True)
    spec.prediction_path.parent.mkdir(parents=True, exist_ok=True)
    if spec.modules is None:  # a module run's predictions are the runner's to manage
        spec.prediction_path.unlink(missing_ok=True)
    python = spec.python or Path(sys.executable)
    with tempfile.TemporaryDirectory(prefix="crunch-run-") as scratch:
        confinement = sandbox.confine(spec, python, Path(scratch))
        try:
            for note in confinement.notes:
                emit("runner", note)
            job = {
                "spec": sandbox.translated_spec(spec, confinement),
                "socketGuard": confinement.socket_guard,
                "limits": sandbox.child_limits(spec),
            }
            watch = _start(spec, python, confinement, job, Path(scratch), emit, stop, on_request)
        finally:
            confinement.close()
    return watch.result(confinement, has_gpu)


def _start(
    spec: RunSpec,
    python: Path,
    confinement: sandbox.Confinement,
    job: dict[str, Any],
    scratch: Path,
    emit: OutputCallback,
    stop: threading.Event | None,
    on_request: RequestHandler | None,
) -> _Watch:
    read_fd, write_fd = os.pipe()
    inside = confinement.kind == sandbox.BUBBLEWRAP
    prefix, passed = confinement.prefix, [write_fd]
    if confinement.options:
        options = scratch / "sandbox-options"
        options.write_bytes(b"".join(option.encode() + b"\0" for option in confinement.options))
        passed.append(os.open(options, os.O_RDONLY))
        prefix = (*prefix, "--args", str(passed[-1]))
    try:
        child = subprocess.Popen(
            [*prefix, str(python), "-m", "crunch_cli.runner.child", str(write_fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=passed,
            start_new_session=True,
            cwd=scratch if inside else spec.working_directory or spec.main_file.parent,
            env=confinement.environment,
        )
    except BaseException:
        os.close(read_fd)
        raise
    finally:
        for fd in passed:
            os.close(fd)
    assert child.stdin is not None
    with contextlib.suppress(BrokenPipeError):  # a child that died at once: its status says
        child.stdin.write(json.dumps(job).encode() + b"\n")
        child.stdin.flush()
    if on_request is None:  # else it carries the answers to the child's requests
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
    try:
        with os.fdopen(read_fd, "rb") as events:
            watch = _Watch(spec, child, events, emit, stop, confinement, on_request)
            watch.loop()
    finally:
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
    return watch


@dataclasses.dataclass
class _Stream:
    """One pipe from the child: the part of the line not yet ended, and whether it was cut."""

    name: str
    pending: bytearray = dataclasses.field(default_factory=bytearray)
    cut: bool = False


class _Watch:
    """The state of one running child, advanced by `loop`."""

    def __init__(
        self,
        spec: RunSpec,
        child: subprocess.Popen[bytes],
        events: IO[bytes],
        emit: OutputCallback,
        stop: threading.Event | None,
        confinement: sandbox.Confinement,
        on_request: RequestHandler | None = None,
    ) -> None:
        self.spec = spec
        self.on_request = on_request
        self.on_progress: Callable[[Progress], None] | None = getattr(emit, "progress", None)
        self.metrics: list[dict[str, Any]] | None = None
        self.child = child
        self.emit = emit
        self.stop = stop
        self.confinement = confinement
        self.started = time.monotonic()
        self.ended = self.started
        self.phases: dict[str, PhaseTiming] = {}
        self.skipped_trains = 0
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
        self._next_disk_sample = 0.0
        self._written_at_start = (
            _bytes_in(confinement.writable) if spec.max_written_bytes is not None else 0
        )
        assert child.stdout is not None and child.stderr is not None
        self._sources = {
            child.stdout.fileno(): _Stream("stdout"),
            child.stderr.fileno(): _Stream("stderr"),
            events.fileno(): _Stream("events"),
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
            for stream in self._sources.values():
                if stream.pending or stream.cut:
                    self._end_line(stream)
            for pipe in (self.child.stdout, self.child.stderr):
                if pipe is not None:
                    pipe.close()

    def _read(self, selector: selectors.BaseSelector, fd: int) -> None:
        stream = self._sources[fd]
        data = os.read(fd, 1 << 16)
        if not data:
            selector.unregister(fd)
            return
        start = 0
        while (newline := data.find(b"\n", start)) != -1:
            self._extend(stream, data[start:newline])
            self._end_line(stream)
            start = newline + 1
        self._extend(stream, data[start:])

    @staticmethod
    def _extend(stream: _Stream, data: bytes) -> None:
        room = MAX_LINE_BYTES - len(stream.pending)
        if len(data) > room:
            stream.cut = True
            data = data[: max(room, 0)]
        stream.pending += data

    def _end_line(self, stream: _Stream) -> None:
        line = bytes(stream.pending)
        cut, stream.cut = stream.cut, False
        stream.pending.clear()
        if stream.name != "events":
            text = line.decode("utf-8", "replace").rstrip("\r")
            text = f"{text} [line cut at {MAX_LINE_BYTES} bytes]" if cut else text
            self.emit(stream.name, text)
            return
        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
            event = json.loads(line)
            if isinstance(event, dict) and not cut:
                self._event(event)

    def _event(self, event: dict[str, Any]) -> None:
        now = time.monotonic()
        if event["type"] == "start":
            self.phase = (str(event["phase"]), event.get("moon"), now)
            self._progress("start", event.get("phase"), moon=event.get("moon"))
        elif event["type"] == "end":
            if self.phase is not None:
                timing = self.phases.setdefault(self.phase[0], PhaseTiming())
                timing.calls += 1
                timing.seconds += now - self.phase[2]
                self.phase = None
            self._progress("end", event.get("phase"))
        elif event["type"] == "plan":
            total = event["total"]
            if isinstance(total, int) and 0 <= total < _MAX_TOTAL:
                self._progress("plan", total=total, unit=_short(event.get("unit") or "moons"))
        elif event["type"] == "skip":
            self.skipped_trains += 1
            self._progress("skip", "train")
        elif event["type"] == "failure":
            self.error = str(event["message"])
        elif event["type"] == "judged" and self.spec.judging is not None:
            from crunch_cli.runner.checks import CheckFailure

            self.failures = [CheckFailure.from_json(failure) for failure in event["failures"]]
            self.score = None if event["score"] is None else Score(**event["score"])
        elif event["type"] == "determinism":
            self.deterministic = event["difference"] is None
            self.determinism_difference = event["difference"]
        elif event["type"] == "scored" and self.spec.modules is not None:
            self.metrics = [dict(metric) for metric in event["metrics"]]
        elif event["type"] == "request" and self.on_request is not None:
            self._answer(event)

    def _progress(
        self, kind: Literal["start", "end", "plan", "skip"], phase: Any = None, **fields: Any
    ) -> None:
        if self.on_progress is None:
            return
        moon = fields.get("moon")
        job = self.spec.modules
        name = None if phase is None else _short(phase)
        self.on_progress(
            Progress(
                kind,
                phase=name,
                moon=None if moon is None else _short(moon),
                total=fields.get("total"),
                unit=fields.get("unit"),
                command=kind == "end"
                and job is not None
                and job.role == "execute"
                and name == job.command
                and not _built_in(job.modules),
            )
        )

    def _answer(self, event: dict[str, Any]) -> None:
        """Act on a request of the child (the clock of the phase it waits in stops), and
        write the answer, if any, as one JSON line on its stdin."""
        started = time.monotonic()
        assert self.on_request is not None
        answer = self.on_request(event)
        if self.phase is not None:  # the time spent here is the other process's
            name, moon, since = self.phase
            self.phase = (name, moon, since + time.monotonic() - started)
        if answer is not None and self.child.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.child.stdin.write(json.dumps(answer).encode() + b"\n")
                self.child.stdin.flush()

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
        if now >= self._next_disk_sample and self.spec.max_written_bytes is not None:
            self._next_disk_sample = now + _DISK_SAMPLE_SECONDS
            written = _bytes_in(self.confinement.writable) - self._written_at_start
            if written > self.spec.max_written_bytes:
                self._kill(
                    "disk",
                    f"{self._phase_name()} wrote {written / MIB:,.0f} MiB, past the limit of "
                    f"{self.spec.max_written_bytes / MIB:,.0f} MiB",
                )
                return
        if now < self._next_sample:
            return
        self._next_sample = now + _SAMPLE_SECONDS
        processes = _tree(self.child.pid)
        rss = _rss(processes)
        self.peak_rss = max(self.peak_rss, rss)
        self.parent_peak_rss = max(self.parent_peak_rss, _own_rss())
        limit_bytes = self.spec.memory_limit
        if limit_bytes is not None and rss > limit_bytes:
            self._kill(
                "memory",
                f"{self._phase_name()} used {rss / MIB:.0f} MiB, past the memory limit of "
                f"{limit_bytes / MIB:.0f} MiB",
            )
            return
        group = self.confinement.process_group
        started = group.count() if group is not None else len(processes)
        limit = self.spec.max_processes
        if limit is not None and started >= limit:
            self._kill(
                "processes",
                f"{self._phase_name()} started {started} processes and threads, the limit",
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

    def result(self, confinement: sandbox.Confinement, has_gpu: bool) -> RunResult:
        predictions = self.spec.prediction_path
        if self.exit_reason is None and self.exit_code != 0:
            self.exit_reason, described = _describe_exit(self.exit_code, self.spec)
            if self.error is None:
                self.error = described
            elif (limit := _limit_hit(self.error, self.spec)) is not None:
                self.exit_reason, hint = limit
                self.error = f"{self.error} ({hint})"
        if self.exit_reason is None and self.spec.modules is None and not predictions.is_file():
            self.exit_reason = "error"
            self.error = "the run ended without writing its predictions"
        return RunResult(
            predictions_path=predictions if self.exit_reason is None else None,
            exit_reason=self.exit_reason,
            error=self.error,
            phases=self.phases,
            skipped_trains=self.skipped_trains,
            wall_seconds=self.ended - self.started,
            peak_rss=self.peak_rss,
            parent_peak_rss=max(self.parent_peak_rss, _own_rss()),
            sandbox=confinement.kind,
            network=confinement.network,
            has_gpu=has_gpu,
            exit_code=self.exit_code,
            deterministic=self.deterministic,
            determinism_difference=self.determinism_difference,
            failures=self.failures,
            score=self.score,
            metrics=self.metrics,
        )


def _short(value: Any) -> str:
    """A name or moon from the child, as a front-end may show it: printable, and short."""
    from crunch_cli.terminal import printable

    text = printable(str(value)).replace("\n", " ")
    return text if len(text) <= _MAX_SHOWN else f"{text[: _MAX_SHOWN - 1]}…"


def _built_in(modules: Any) -> bool:
    from crunch_cli.modules.builtin import is_built_in

    return is_built_in(modules)


def _own_rss() -> int:
    """Sampled, not getrusage: a process started by a big one inherits its peak RSS."""
    import psutil

    return int(psutil.Process().memory_info().rss)


def _tree(pid: int) -> list[Any]:
    """The child and every process below it, as psutil sees them from the host."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _rss(processes: list[Any]) -> int:
    import psutil

    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total


def _bytes_in(folders: tuple[Path, ...]) -> int:
    """Disk space used under the writable folders (sparse files count what they use);
    a flood of files counts as full, so the walk stays bounded."""
    total, seen = 0, 0
    pending = [str(folder) for folder in folders]
    while pending:
        with contextlib.suppress(OSError), os.scandir(pending.pop()) as entries:
            for entry in entries:
                seen += 1
                if seen > _MAX_COUNTED_FILES:
                    return 1 << 62
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
    return total


def _describe_exit(code: int | None, spec: RunSpec) -> tuple[ExitReason, str]:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        if name == "SIGXCPU" and spec.cpu_time_limit is not None:
            return "timeout", f"the code used up its {spec.cpu_time_limit:g} s of CPU time"
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return "error", f"the code was killed by {name}{hint}"
    return "error", f"the code exited with status {code}"


_LIMIT_ERRORS: dict[str, tuple[ExitReason, str]] = {
    "Resource temporarily unavailable": ("processes", "processes"),
    "Too many open files": ("error", "open files"),
    "File too large": ("disk", "file size"),
    "No space left on device": ("disk", "scratch space"),
}


def _limit_hit(error: str, spec: RunSpec) -> tuple[ExitReason, str] | None:
    """The limit behind an error the user's code got from the system, if any: its exit
    reason, and a hint naming it."""
    limits = {
        "processes": spec.max_processes,
        "open files": spec.max_open_files,
        "file size": spec.max_written_bytes,
        "scratch space": spec.max_written_bytes,
    }
    for text, (reason, limit) in _LIMIT_ERRORS.items():
        value = limits[limit]
        if text in error and value is not None:
            shown = f"{value / MIB:,.0f} MiB" if reason == "disk" else str(value)
            return reason, f"the run's {limit} limit is {shown}"
    return None
