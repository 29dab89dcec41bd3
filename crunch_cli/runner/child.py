"""The child process: imports the user's code and runs the format's schedule.

Started by the parent as `python -m crunch_cli.runner.child EVENTS_FD`, the job (a JSON
object) on standard input. It reads its data from parquet files and writes the predictions
to a parquet file; the event pipe only carries small JSON lines. Before the user's module
loads it sets its own resource limits (which nothing it starts can raise again) and, where
nothing stronger cuts the network, the socket guard. On a crash it prints the user's
traceback without our frames and exits 1; the error itself goes to the parent as a
`failure` event, which the front-end prints once.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

import crunch_cli
from crunch_cli.runner.calls import Events, ProtocolError
from crunch_cli.runner.spec import RunSpec

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

_OUR_FILES = str(Path(crunch_cli.__file__).parent)


def load_module(path: Path) -> ModuleType:
    """Import the main file under its own name, so pickles of its classes load back."""
    name = path.stem
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise ProtocolError(f"{path} cannot be imported as Python code")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


def _is_ours(frame_file: str) -> bool:
    return frame_file.startswith((_OUR_FILES, "<frozen importlib"))


def print_user_traceback(error: BaseException) -> None:
    """The traceback from the first frame of user code down: our frames are noise to them."""
    tb: TracebackType | None = error.__traceback__
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is not None or isinstance(error, SyntaxError):
        error = error.with_traceback(tb)
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    sys.stderr.flush()


def compare(first: Any, second: Any) -> str | None:
    """None when two inferences on the same rows agree; else what differs."""
    import numpy as np

    if list(first.columns) != list(second.columns) or len(first) != len(second):
        return "two infer() calls on the same rows returned differently shaped frames"
    for column in first.columns:
        left, right = first[column].to_numpy(), second[column].to_numpy()
        numeric = np.issubdtype(left.dtype, np.number) and np.issubdtype(right.dtype, np.number)
        same = (
            np.allclose(left, right, rtol=1e-9, atol=1e-12, equal_nan=True)
            if numeric
            else bool((left == right).all())
        )
        if not same:
            return f"two infer() calls on the same rows gave different {column!r} values"
    return None


def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
    """Call `function` on a thread that ends with it: no idle thread of ours stays around
    while the user's code runs (and, say, forks)."""
    from concurrent.futures import ThreadPoolExecutor

    executor = ThreadPoolExecutor(max_workers=1)
    try:
        return executor.submit(function, *args, **kwargs)
    finally:
        executor.shutdown(wait=False)


def run_schedule(spec: RunSpec, events: Events, load: Callable[[], ModuleType]) -> int:
    """A built-in format's schedule (`crunch_cli.modules.builtin`): import the user's code
    with `load`, run its train/infer calls over the data, write the predictions, and judge
    them here when the spec says so. 0 on success, 1 after reporting why."""
    from crunch_cli.runner import formats
    from crunch_cli.runner.judge import Reference, judge

    try:
        with events.framing("import"):
            module = load()
        with events.framing("load"):
            schedule = formats.make(module, spec, events)
        # Reading the test keys and targets while the user's code runs, and writing the
        # predictions while they are judged, puts the otherwise idle core to work.
        judging = spec.judging
        reference = None
        if judging is not None:
            reference = in_background(Reference.read, spec.data_files.x_test, judging, spec.columns)
        predictions = schedule.run()
        predictions.columns = [str(column) for column in predictions.columns]
        written = in_background(predictions.to_parquet, spec.prediction_path, index=False)
        if spec.determinism_check:
            with events.counted_as("determinism"):
                difference = compare(schedule.infer_sample(), schedule.infer_sample())
            events.send(type="determinism", difference=difference)
        if judging is not None and reference is not None:
            with events.framing("judge"):
                failures, score = judge(predictions, spec.columns, judging, reference.result())
            events.send(
                type="judged",
                failures=[dataclasses.asdict(failure) for failure in failures],
                score=None if score is None else dataclasses.asdict(score),
            )
        written.result()
    except ProtocolError as error:  # no traceback to show: the parent says it, once
        events.send(type="failure", message=str(error))
        return 1
    except BaseException as error:  # SystemExit too: user code calling exit() is a crash
        print_user_traceback(error)
        phase = events.phase
        steps = {
            "import": f"importing {spec.main_file.name}",
            "load": "loading the data",
            "judge": "checking the predictions",
        }
        where = steps.get(phase or "", f"{phase}()" if phase else "the run")
        summary = traceback.format_exception_only(type(error), error)[-1].strip()
        events.send(type="failure", message=f"{where} raised {summary}")
        return 1
    return 0


def apply_limits(limits: dict[str, Any]) -> None:
    """Soft and hard limits alike: the user's code may lower them, never raise them."""
    import resource

    chosen = {
        resource.RLIMIT_NPROC: limits.get("processes"),
        resource.RLIMIT_NOFILE: limits.get("openFiles"),
        resource.RLIMIT_FSIZE: limits.get("fileSize"),
        resource.RLIMIT_CORE: 0,
    }
    if (seconds := limits.get("cpuSeconds")) is not None:
        chosen[resource.RLIMIT_CPU] = max(1, int(seconds))
    for kind, value in chosen.items():
        if value is None:
            continue
        _soft, hard = resource.getrlimit(kind)
        # At the CPU limit SIGXCPU comes first (the parent names it), SIGKILL a bit later.
        ceiling = int(value) + (CPU_GRACE_SECONDS if kind == resource.RLIMIT_CPU else 0)
        if hard != resource.RLIM_INFINITY:
            ceiling = min(ceiling, hard)
        resource.setrlimit(kind, (min(int(value), ceiling), ceiling))


CPU_GRACE_SECONDS = 5


def main(argv: list[str] | None = None) -> int:
    (events_fd,) = argv or sys.argv[1:]
    job = json.loads(sys.stdin.readline())
    if job["socketGuard"]:
        from crunch_cli.runner import network

        network.install_socket_guard()
    apply_limits(job["limits"])
    spec = RunSpec.from_json(job["spec"])
    # `python -m` put the folder it started in first on the path: only the code folder
    # (what was pushed) may provide the user's imports, as on the hub.
    if sys.path and sys.path[0] in ("", str(Path.cwd())):
        del sys.path[0]
    os.chdir(spec.working_directory or spec.main_file.parent)
    sys.path.insert(0, str(spec.code_directory or spec.main_file.parent))
    if spec.modules is not None:
        from crunch_cli.modules import roles

        return roles.run(spec, Events(int(events_fd)))
    return run_schedule(spec, Events(int(events_fd)), lambda: load_module(spec.main_file))


def exit_now(code: int) -> NoReturn:
    """Exit without the interpreter's teardown: finalizing pandas, pyarrow and the run's
    data takes a tenth of a second after every run, all of it waiting time for the user.
    The user's atexit handlers still run and their buffered output still reaches the
    parent; objects left alive are not finalized."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
