"""What the sandbox costs each run: bubblewrap against the `unshare` the runner used before.

    .venv/bin/python benchmarks/sandbox_bench.py [--rounds 15]

Two figures, each taken in alternating rounds so that a noisy stretch of the machine hits
every variant alike, and printed as min / median / max:

1. start-up alone: `python -c pass` bare, under `unshare --user --net --map-root-user`
   (network only, what runs had before), and under the very bubblewrap command a run gets
   (every namespace, the read-only system and Python, the run's folders, the limits);
2. a whole small run through `crunch_cli.runner.run` (cross-sectional quickstarter, 1,000
   rows): sandboxed by bubblewrap, and with bubblewrap treated as missing (network
   namespace only).

Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from crunch_cli.runner import network, run, sandbox
from crunch_cli.runner.spec import ColumnNames, DataFiles, Format, RunSpec

TEMPLATE = Path(__file__).resolve().parents[1] / "crunch_cli" / "templates" / "cross-sectional"


def spec_in(folder: Path) -> RunSpec:
    """A small cross-sectional submission with its data, as the hub lays a run out."""
    code, data = folder / "code", folder / "data"
    (code / "resources").mkdir(parents=True)
    data.mkdir()
    (folder / "output").mkdir()
    shutil.copy(TEMPLATE / "main.py", code / "main.py")
    rows = 1_000
    generator = np.random.default_rng(0)
    features = pd.DataFrame(generator.normal(size=(rows, 5)), columns=[f"f{i}" for i in range(5)])
    features.insert(0, "id", [f"id-{i}" for i in range(rows)])
    features.to_parquet(data / "X_train.parquet")
    features.to_parquet(data / "X_test.parquet")
    targets = pd.DataFrame({"id": features["id"], "target": generator.integers(0, 2, rows)})
    targets.to_parquet(data / "y_train.parquet")
    return RunSpec(
        main_file=code / "main.py",
        model_dir=code / "resources",
        data=DataFiles(data / "X_train.parquet", data / "y_train.parquet", data / "X_test.parquet"),
        format=Format.CROSS_SECTIONAL,
        prediction_path=folder / "output" / "prediction.parquet",
        columns=ColumnNames(moon=None),
        working_directory=code,
        max_processes=1024,
        max_open_files=4096,
        max_written_bytes=1 << 30,
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def show(title: str, samples: dict[str, list[float]]) -> None:
    print(f"\n{title}")
    base = statistics.median(next(iter(samples.values())))
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"  {name:34} min {min(values) * 1000:7.1f} ms   median {median * 1000:7.1f} ms   "
            f"max {max(values) * 1000:7.1f} ms   ({median / base:.2f}x)"
        )


def start_up(spec: RunSpec, rounds: int, scratch: Path) -> dict[str, list[float]]:
    python = Path(sys.executable)
    confinement = sandbox.confine(spec, python, scratch)
    options = scratch / "options"
    options.write_bytes(b"".join(part.encode() + b"\0" for part in confinement.options))
    unshare = network.namespace_prefix() or ()
    commands = {
        "bare python": [str(python), "-c", "pass"],
        "unshare (network only)": [*unshare, str(python), "-c", "pass"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    samples["bubblewrap (the run's sandbox)"] = []
    for _ in range(rounds):
        for name, command in commands.items():
            samples[name].append(timed(lambda command=command: subprocess.run(command, check=True)))
        with open(options, "rb") as handle:
            fd = handle.fileno()
            sandboxed = [*confinement.prefix, "--args", str(fd), str(python), "-c", "pass"]
            samples["bubblewrap (the run's sandbox)"].append(
                timed(lambda: subprocess.run(sandboxed, check=True, pass_fds=[fd]))  # noqa: B023
            )
    confinement.close()
    return samples


def whole_runs(spec: RunSpec, rounds: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"network namespace only": [], "bubblewrap sandbox": []}
    original = sandbox.bubblewrap_problem
    for _ in range(rounds):
        sandbox.bubblewrap_problem = lambda: "left out by the benchmark"  # type: ignore[assignment]
        try:
            samples["network namespace only"].append(timed(lambda: _checked(run(spec))))
        finally:
            sandbox.bubblewrap_problem = original
        samples["bubblewrap sandbox"].append(timed(lambda: _checked(run(spec))))
    return samples


def _checked(result: object) -> None:
    if not getattr(result, "ok", False):
        raise SystemExit(f"the run failed: {getattr(result, 'error', result)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    arguments = parser.parse_args()
    if (problem := sandbox.bubblewrap_problem()) is not None:
        raise SystemExit(f"cannot measure: {problem}")
    with tempfile.TemporaryDirectory() as folder:
        spec = spec_in(Path(folder))
        scratch = Path(folder) / "scratch"
        scratch.mkdir()
        show("start-up of one process", start_up(spec, arguments.rounds, scratch))
        runs = whole_runs(dataclasses.replace(spec), max(3, arguments.rounds // 3))
        show("a whole small run (crunch_cli.runner.run)", runs)


if __name__ == "__main__":
    main()
