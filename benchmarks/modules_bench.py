"""A module competition's `crunch test`: ours (sandboxed) against crunch-cli 13.0.1 (in-process).

    .venv/bin/python benchmarks/modules_bench.py [--rounds 7] [--test-series 3000]
        [--public-venv DIR]

crunch-cli 13.0.1 is not a dependency: it runs from a venv of its own, `--public-venv DIR`
or `$CRUNCH13_VENV` (e.g. the interop tests' `$XDG_CACHE_HOME/crunch-interop/crunch-cli-
13.0.1-py311`); by default /tmp/crunch-cli-13.0.1-bench, built once (python -m venv, then
pip install crunch-cli==13.0.1) when it has no bin/crunch.

The competition is shaped like the structural-break one: runner.py reads parquet files,
trips the data fuse, calls the participant's train() on a few MB, then streams a few
thousand series one at a time through GeneratorWrapper into the participant's infer()
generator and writes prediction.parquet; scoring.py needs a hidden file, so a competitor's
`crunch test` cannot score. A real hub (`crunch hub serve`) serves it on loopback; each
client sets up its own workspace from it, with the same main.py. 13.0.1's `crunch test`
asks that hub for the competition, round, release and runner.py every time (as it asks
the platform); ours works from the workspace alone. Both run in turn, ours then 13.0.1's,
after one warm-up round of each, with a bare environment (PATH, HOME, locale).

Printed: wall and CPU seconds (min / median / max), the ratio of each round's pair (target:
ours at most 1.2x 13.0.1's), whether both left the same predictions, then where the time
goes: the modules print `@mark NAME <time.time()>` at each step (one clock for every
process, sandboxes included), and the profile is the median over rounds of the gap between
two marks, beside a few stand-alone measures (CLI start-up, pandas import, bubblewrap
start-up, the data view of hard links). CPU is summed over the whole process tree by
sampling it: the kernel's accounting of children (what /usr/bin/time reports) never sees
the processes bubblewrap starts, so it would count ours as the `crunch` process alone.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _hub import CRUNCH, crunch, running_hub

PUBLIC_VERSION = "13.0.1"
DEFAULT_PUBLIC_VENV = Path("/tmp/crunch-cli-13.0.1-bench")
NAME = "modules-bench"

MARK = """
import time as _time


def _mark(name):
    print(f"@mark {name} {_time.time():.6f}", flush=True)
"""

RUNNER = (
    MARK
    + """
_mark("runner-exec")

import os

import pandas
from crunch.container import GeneratorWrapper
from crunch.utils import smart_call

_mark("runner-imported")


def run(context):
    _mark("run")
    for command in ("train", "infer"):
        _mark(f"call-{command}")
        context.execute(command=command)
        _mark(f"done-{command}")


def execute(context, module, data_directory_path, model_directory_path,
            prediction_directory_path):
    defaults = {"model_directory_path": model_directory_path}

    def train():
        _mark("train-start")
        x_train = pandas.read_parquet(os.path.join(data_directory_path, "X_train.parquet"))
        y_train = pandas.read_parquet(os.path.join(data_directory_path, "y_train.parquet"))
        _mark("train-read")
        context.trip_data_fuse()
        _mark("train-fused")
        smart_call(module.get_function("train"), defaults,
                   {"X_train": x_train, "y_train": y_train["structural_breakpoint"]})
        _mark("train-end")

    def infer():
        _mark("infer-start")
        x_test = pandas.read_parquet(os.path.join(data_directory_path, "X_test.parquet"))
        ids, series = [], []
        for key, frame in x_test.groupby("id", sort=True):
            ids.append(key)
            series.append(frame.reset_index(drop=True))
        del x_test
        _mark("infer-read")
        context.trip_data_fuse()
        _mark("infer-fused")
        wrapper = GeneratorWrapper(
            iter(series),
            lambda stream: smart_call(module.get_function("infer"), defaults,
                                      {"X_test": stream}),
            post_processor=float,
        )
        values, _ = wrapper.collect(len(series))
        _mark("infer-collected")
        frame = pandas.DataFrame({"id": ids, "prediction": values})
        frame.to_parquet(os.path.join(prediction_directory_path, "prediction.parquet"),
                         index=False)
        _mark("infer-end")

    return {"train": train, "infer": infer}
"""
)

SCORING = (
    MARK
    + """
_mark("scoring-exec")

import os

import pandas
from crunch.unstructured import ScoredMetric

_mark("scoring-imported")


def score(prediction_directory_path, data_directory_path):
    _mark("score")
    expected = pandas.read_parquet(os.path.join(data_directory_path, "y_test.parquet"))
    predicted = pandas.read_parquet(os.path.join(prediction_directory_path, "prediction.parquet"))
    merged = expected.merge(predicted, on="id")
    error = (merged["prediction"] - merged["structural_breakpoint"]).abs().mean()
    return {1: ScoredMetric(float(error))}
"""
)

MAIN = """
import json
import os

import numpy as np
import pandas as pd
import psutil


def _gap(values, periods):
    before, after = values[periods == 0], values[periods == 1]
    if len(before) == 0 or len(after) == 0:
        return 0.0
    return abs(after.mean() - before.mean()) / (values.std() + 1e-9)


def train(X_train, y_train, model_directory_path):
    gaps = X_train.groupby("id").apply(
        lambda frame: _gap(frame["value"].to_numpy(), frame["period"].to_numpy()),
        include_groups=False,
    )
    broken = gaps[y_train.to_numpy()]
    threshold = float(broken.median()) if len(broken) else 1.0
    with open(os.path.join(model_directory_path, "model.json"), "w") as file:
        json.dump({"threshold": threshold}, file)


def infer(X_test, model_directory_path):
    with open(os.path.join(model_directory_path, "model.json")) as file:
        threshold = json.load(file)["threshold"]
    yield
    for frame in X_test:
        gap = _gap(frame["value"].to_numpy(), frame["period"].to_numpy())
        yield min(1.0, gap / (2 * threshold))
"""


# -- the competition ----------------------------------------------------------------------------


def series_frame(
    generator: np.random.Generator, count: int, length: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """`count` series of `length` points, a break in the mean at a random point of half of
    them; returns the long table (id, time, value, period) and which ones broke."""
    broken = generator.random(count) < 0.5
    cuts = generator.integers(length // 4, 3 * length // 4, count)
    time_index = np.tile(np.arange(length, dtype=np.int32), count)
    period = (time_index >= np.repeat(cuts, length)).astype(np.int8)
    shift = np.repeat(np.where(broken, generator.normal(0.0, 0.5, count), 0.0), length)
    values = generator.standard_normal(count * length) + shift * period
    frame = pd.DataFrame(
        {
            "id": np.repeat(np.arange(count, dtype=np.int32), length),
            "time": time_index,
            "value": values,
            "period": period,
        }
    )
    return frame, broken


def make_competition(folder: Path, arguments: argparse.Namespace) -> dict[str, int]:
    """The organizer's data and modules folders; returns the released files' sizes."""
    data, modules = folder / "data", folder / "scoring"
    (data / "hidden").mkdir(parents=True)
    modules.mkdir()
    generator = np.random.default_rng(0)
    x_train, y_train = series_frame(generator, arguments.train_series, arguments.train_length)
    x_test, y_test = series_frame(generator, arguments.test_series, arguments.test_length)
    x_train.to_parquet(data / "X_train.parquet", index=False)
    pd.DataFrame({"id": np.arange(len(y_train)), "structural_breakpoint": y_train}).to_parquet(
        data / "y_train.parquet", index=False
    )
    x_test.to_parquet(data / "X_test.parquet", index=False)
    pd.DataFrame({"id": np.arange(len(y_test)), "structural_breakpoint": y_test}).to_parquet(
        data / "hidden" / "y_test.parquet", index=False
    )
    (modules / "runner.py").write_text(RUNNER)
    (modules / "scoring.py").write_text(SCORING)
    crunch(
        "hub", "competition", "create", NAME, "--format", "unstructured",
        "--data-dir", str(data), "--modules", str(modules), "--target", "y",
        "--metric", "mae", "--lower-is-better", "--root", str(folder / "hub"),
    )  # fmt: skip
    return {path.name: path.stat().st_size for path in data.glob("*.parquet")}


def public_venv(given: str | None) -> Path:
    """13.0.1's venv: the one given, else the default one, built when incomplete."""
    venv = Path(given or os.environ.get("CRUNCH13_VENV") or DEFAULT_PUBLIC_VENV)
    if (venv / "bin" / "crunch").exists():
        return venv
    if given or os.environ.get("CRUNCH13_VENV"):
        sys.exit(f"{venv} has no bin/crunch: give the venv crunch-cli {PUBLIC_VERSION} is in")
    print(f"building {venv} (pip install crunch-cli=={PUBLIC_VERSION})", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", f"crunch-cli=={PUBLIC_VERSION}"],
        check=True,
    )  # fmt: skip
    return venv


def bare_env(home: Path, bin_dir: Path) -> dict[str, str]:
    """Nothing of this shell's configuration (no CRUNCH_* variable) reaches a client."""
    path = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


def setup_token(root: Path) -> str:
    """A one-time setup token: the line under "Setup token for alice/alpha ..."."""
    printed = crunch("hub", "token", NAME, "alice", "alpha", "--root", str(root)).stdout
    return printed.splitlines()[1].strip()


# -- measuring ----------------------------------------------------------------------------------


class Run:
    """One finished `crunch test`: wall and CPU seconds, its output and its marks."""

    def __init__(
        self, wall: float, cpu: tuple[float, float], output: str, started: float, ended: float
    ):
        self.wall, self.output = wall, output
        self.own_cpu, self.cpu = cpu[0], cpu[0] + cpu[1]
        self.marks = [("start", started)]
        self.marks += [
            (name, float(stamp)) for name, stamp in re.findall(r"@mark (\S+) ([\d.]+)", output)
        ]
        self.marks.append(("exit", ended))

    def first(self, name: str, after: float = 0.0) -> float | None:
        return next((t for mark, t in self.marks if mark == name and t >= after), None)


def timed(command: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run `command`; CPU time is the sum over its whole process tree, sandboxes included,
    sampled every 50 ms (so a little under): the kernel's accounting of waited-for children
    misses the processes that bubblewrap starts, and a finer sampling steals CPU from them."""
    started_clock, started = time.time(), time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    stdout = process.stdout
    assert stdout is not None
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(stdout.read()))
    reader.start()
    cpu: dict[tuple[int, float], float] = {}
    root = psutil.Process(process.pid)
    while process.poll() is None:
        with contextlib.suppress(psutil.Error):
            for member in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = member.cpu_times()
                    cpu[(member.pid, member.create_time())] = times.user + times.system
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    ended_clock = time.time()
    reader.join()
    output = "".join(chunks)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{output}")
    own = sum(seconds for (pid, _), seconds in cpu.items() if pid == process.pid)
    return Run(elapsed, (own, sum(cpu.values()) - own), output, started_clock, ended_clock)


def median_seconds(call: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def quiet(*command: str) -> Callable[[], object]:
    return lambda: subprocess.run(command, check=True, capture_output=True)


# -- the profile --------------------------------------------------------------------------------


def between(run: Run, start: str, end: str) -> float:
    """From the first `start` mark to the first `end` mark after it."""
    begin = run.first(start)
    finish = None if begin is None else run.first(end, after=begin)
    return float("nan") if begin is None or finish is None else finish - begin


def command_start(run: Run, command: str) -> tuple[float, float, float]:
    """execute() to the handler, in three: a process starts and runs runner.py, runner.py's
    imports, the rest. 13.0.1 calls the handler in-process: (0, 0, all of it)."""
    called, handler = run.first(f"call-{command}"), run.first(f"{command}-start")
    if called is None or handler is None:
        return (float("nan"),) * 3
    executed = run.first("runner-exec", after=called)
    imported = run.first("runner-imported", after=called)
    if executed is None or imported is None or imported > handler:
        return 0.0, 0.0, handler - called
    return executed - called, imported - executed, handler - imported


def _step(start: str, end: str) -> Callable[[Run], float]:
    return lambda run: between(run, start, end)


def _start_part(command: str, part: int) -> Callable[[Run], float]:
    return lambda run: command_start(run, command)[part]


STEPS: list[tuple[str, Callable[[Run], float]]] = [
    ("CLI start, checks, API/download, until runner.py runs", _step("start", "runner-exec")),
    ("runner.py imports (pandas, crunch.*), first time", _step("runner-exec", "runner-imported")),
    (
        "runner.py loaded -> run() (13.0.1: loads main.py, asks the hub)",
        _step("runner-imported", "run"),
    ),
]
for _command, _reading in (("train", "reads the parquet files"), ("infer", "reads, splits X_test")):
    STEPS += [
        (f"{_command}: execute() -> sandboxed process runs runner.py", _start_part(_command, 0)),
        (f"{_command}: runner.py imports in that process", _start_part(_command, 1)),
        (f"{_command}: runner.py imported -> handler called", _start_part(_command, 2)),
        (f"{_command}: handler {_reading}", _step(f"{_command}-start", f"{_command}-read")),
        (f"{_command}: data fuse tripped", _step(f"{_command}-read", f"{_command}-fused")),
    ]
    if _command == "train":
        STEPS.append(("train: participant's train()", _step("train-fused", "train-end")))
    else:
        STEPS += [
            (
                "infer: GeneratorWrapper streams every series",
                _step("infer-fused", "infer-collected"),
            ),
            ("infer: prediction.parquet written", _step("infer-collected", "infer-end")),
        ]
    STEPS.append(
        (f"{_command}: handler done -> back in run()", _step(f"{_command}-end", f"done-{_command}"))
    )
STEPS += [
    ("after run(): a sandboxed process runs scoring.py", _step("done-infer", "scoring-exec")),
    ("after run(): scoring.py imports", _step("scoring-exec", "scoring-imported")),
    ("after run(): scoring.py imported -> command exits", _step("scoring-imported", "exit")),
    ("after run(): all of it", _step("done-infer", "exit")),
]


def profile(runs: list[Run]) -> list[float]:
    """Each step's median over the runs; a step that does not happen reads nan."""
    return [statistics.median(step(run) for run in runs) for _, step in STEPS]


# -- main ---------------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[0]:5.2f} / {statistics.median(ordered):5.2f} / {ordered[-1]:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--train-series", type=int, default=300)
    parser.add_argument("--train-length", type=int, default=1000)
    parser.add_argument("--test-series", type=int, default=3000)
    parser.add_argument("--test-length", type=int, default=200)
    parser.add_argument("--public-venv", help="a venv with crunch-cli 13.0.1 (or $CRUNCH13_VENV)")
    arguments = parser.parse_args()
    venv = public_venv(arguments.public_venv)
    public = str(venv / "bin" / "crunch")

    with tempfile.TemporaryDirectory(prefix="modules-bench-") as folder:
        base = Path(folder)
        sizes = make_competition(base, arguments)
        home = base / "home"
        home.mkdir()
        ours_env = bare_env(home, Path(CRUNCH).parent)
        theirs_env = bare_env(home, venv / "bin")
        with running_hub(base / "hub") as url:
            ours_cli = [CRUNCH, "--api-base-url", url]
            theirs_cli = [
                public, "--api-base-url", url, "--web-base-url", url,
                "--competitions", f"cache+{url}",
            ]  # fmt: skip
            ours, theirs = base / "ours", base / "theirs"
            for cli, workspace, env in (
                (ours_cli, ours, ours_env),
                (theirs_cli, theirs, theirs_env),
            ):
                subprocess.run(
                    [*cli, "setup", "--token", setup_token(base / "hub"), NAME, "alpha",
                     str(workspace)],
                    check=True, capture_output=True, env=env, cwd=base,
                )  # fmt: skip
                (workspace / "main.py").write_text(textwrap.dedent(MAIN))

            ours_runs: list[Run] = []
            theirs_runs: list[Run] = []
            for round_number in range(arguments.rounds + 1):  # the first one warms up
                ours_run = timed([*ours_cli, "test"], ours, ours_env)
                theirs_run = timed([*theirs_cli, "test"], theirs, theirs_env)
                if round_number:
                    ours_runs.append(ours_run)
                    theirs_runs.append(theirs_run)

            same = (ours / "prediction" / "prediction.parquet").read_bytes() == (
                theirs / "prediction" / "prediction.parquet"
            ).read_bytes()
            equal = pd.read_parquet(ours / "prediction" / "prediction.parquet").equals(
                pd.read_parquet(theirs / "prediction" / "prediction.parquet")
            )
            view_seconds = _data_view_seconds(ours / "data", base / "view", arguments.rounds)

        python = sys.executable
        stand_alone = {
            "our `crunch --version` (CLI start-up)": median_seconds(
                quiet(CRUNCH, "--version"), arguments.rounds
            ),
            "13.0.1's `crunch --version`": median_seconds(
                quiet(public, "--version"), arguments.rounds
            ),
            "python -c pass": median_seconds(quiet(python, "-c", "pass"), arguments.rounds),
            "python -c 'import pandas'": median_seconds(
                quiet(python, "-c", "import pandas"), arguments.rounds
            ),
            "python: our child's imports (crunch_cli.runner.child, crunch.*)": median_seconds(
                quiet(
                    python,
                    "-c",
                    "import crunch_cli.runner.child, crunch_cli.modules.roles, "
                    "crunch.container, crunch.utils, crunch.unstructured",
                ),
                arguments.rounds,
            ),
            "data view: hard links of data/ (in-process)": view_seconds,
        }
        sandboxed = sandbox_start_up(base / "sandbox", arguments.rounds)
        stand_alone["python -c pass, bare (sandbox_bench)"] = sandboxed["bare python"]
        stand_alone["python -c pass, in the run's bubblewrap sandbox"] = sandboxed[
            "bubblewrap (the run's sandbox)"
        ]

    mib = 1 << 20
    print(
        f"data: X_train {arguments.train_series} series x {arguments.train_length} points "
        f"({sizes['X_train.parquet'] / mib:.1f} MiB parquet), X_test {arguments.test_series} "
        f"series x {arguments.test_length} points ({sizes['X_test.parquet'] / mib:.1f} MiB), "
        "streamed one series at a time"
    )
    print(f"runs: {arguments.rounds} rounds, ours then 13.0.1's, after a warm-up round")
    print("                       min /  median /   max")
    print(f"ours    crunch test  wall {spread([run.wall for run in ours_runs])} s")
    print(f"13.0.1  crunch test  wall {spread([run.wall for run in theirs_runs])} s")
    print(f"ours    crunch test  cpu  {spread([run.cpu for run in ours_runs])} s")
    print(f"13.0.1  crunch test  cpu  {spread([run.cpu for run in theirs_runs])} s")
    print(f"ours    `crunch` process alone cpu {spread([run.own_cpu for run in ours_runs])} s")
    pairs = sorted(o.wall / t.wall for o, t in zip(ours_runs, theirs_runs, strict=True))
    medians = statistics.median(r.wall for r in ours_runs) / statistics.median(
        r.wall for r in theirs_runs
    )
    print(
        f"wall ratio ours/13.0.1: {statistics.median(pairs):.2f}x median of pairs "
        f"({pairs[0]:.2f}x to {pairs[-1]:.2f}x), {medians:.2f}x of medians; target <= 1.2x"
    )
    print(f"predictions: byte-identical {same}, equal values {equal}")
    print()
    print("profile, median over rounds (s)                                   ours   13.0.1")
    for (label, _), mine, public_figure in zip(
        STEPS, profile(ours_runs), profile(theirs_runs), strict=True
    ):
        print(f"  {label:<62} {mine:6.3f}   {public_figure:6.3f}")
    print(
        f"  {'total':<62} {statistics.median(r.wall for r in ours_runs):6.3f}   "
        f"{statistics.median(r.wall for r in theirs_runs):6.3f}"
    )
    ours_profile = dict(zip((label for label, _ in STEPS), profile(ours_runs), strict=True))
    starts = sum(
        value for label, value in ours_profile.items() if "sandboxed process runs" in label
    )
    imports = sum(
        value
        for label, value in ours_profile.items()
        if label.endswith("imports in that process") or label == "after run(): scoring.py imports"
    )
    print(
        f"  ours, 3 processes 13.0.1 does not start (train, infer, scoring): {starts:.2f} s "
        f"to start them, {imports:.2f} s of imports (pandas) in them"
    )
    print()
    print("stand-alone, median (s)")
    for label, seconds in stand_alone.items():
        print(f"  {label:<66} {seconds:6.3f}")


def sandbox_start_up(folder: Path, rounds: int) -> dict[str, float]:
    """sandbox_bench's start-up figures: `python -c pass` bare and under bubblewrap."""
    from sandbox_bench import spec_in, start_up

    folder.mkdir()
    (folder / "scratch").mkdir()
    samples = start_up(spec_in(folder), rounds, folder / "scratch")
    return {name: statistics.median(values) for name, values in samples.items()}


def _data_view_seconds(data: Path, view: Path, rounds: int) -> float:
    from crunch_cli.modules.pipeline import data_view

    def once() -> None:
        shutil.rmtree(view, ignore_errors=True)
        data_view(data, view)

    return median_seconds(once, rounds)


if __name__ == "__main__":
    main()
