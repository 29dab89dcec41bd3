"""How much `crunch test` costs on top of the user's code, and how much memory it takes.

A timeseries competition of MOONS moons x ROWS rows x FEATURES features (the first half of
the moons to train on, the second half to infer one moon at a time) and a trivial model.
Side by side, each in a fresh process:

- bare harness: read the parquet files, loop over the test moons with a groupby, call
  train() and infer(), concatenate the predictions; no checks, no subprocess, no limits;
- `crunch test`: the real command in a real workspace (child process, network block,
  memory sampling, checks, local score, outputs written).

Prints the wall times, their ratio (target: at most 1.3), and the peak RSS of each against
the size of the data in memory. A busy or noisy machine (page faults on a VM can double a
read) moves both sides together, so the ratio of each alternated pair is printed too.
Usage: python benchmarks/runner_bench.py [--moons 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

MODEL = """
from pathlib import Path


def train(X_train, y_train, model_directory_path):
    (Path(model_directory_path) / "model.txt").write_text(str(len(X_train)))


def infer(X_test):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""

HARNESS = """
import sys
import time

import numpy as np
import pandas as pd
import psutil

started = time.perf_counter()
data, model_dir, embargo = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, sys.argv[4])
import main

x_train = pd.read_parquet(f"{data}/X_train.parquet")
y_train = pd.read_parquet(f"{data}/y_train.parquet")
x_test = pd.read_parquet(f"{data}/X_test.parquet")
train_moons = x_train["moon"].to_numpy()
predictions = []
for moon, x_moon in x_test.groupby("moon", sort=True):
    cut = np.searchsorted(train_moons, moon - embargo)
    main.train(x_train.iloc[:cut], y_train.iloc[:cut], model_dir)
    predictions.append(main.infer(x_moon))
pd.concat(predictions, ignore_index=True).to_parquet(f"{model_dir}/prediction.parquet")
print(f"harness inner seconds: {time.perf_counter() - started:.2f}")
"""


def make_workspace(root: Path, moons: int, rows: int, features: int) -> int:
    """Write the data, metadata and main.py; returns the data's size in memory (bytes)."""
    rng = np.random.default_rng(0)
    names = [f"feature_{index:02d}" for index in range(features)]
    x = pd.DataFrame(rng.standard_normal((moons * rows, features), dtype="float32"), columns=names)
    x.insert(0, "moon", np.repeat(np.arange(moons), rows))
    x.insert(0, "id", np.tile([f"id_{index:05d}" for index in range(rows)], moons))
    y = x[["id", "moon"]].assign(target=x["feature_00"] + rng.standard_normal(len(x)))
    split = moons // 2
    data = root / "data"
    data.mkdir(parents=True)
    parts = {
        "X_train": x[x["moon"] < split],
        "y_train": y[y["moon"] < split],
        "X_test": x[x["moon"] >= split],
        "y_test": y[y["moon"] >= split],
    }
    for key, frame in parts.items():
        frame.to_parquet(data / f"{key}.parquet", index=False)
    size = int(sum(frame.memory_usage(deep=True).sum() for frame in parts.values()))
    (root / ".crunchdao").mkdir()
    (root / ".crunchdao" / "project.json").write_text(
        json.dumps(
            {
                "competitionName": "bench",
                "projectName": "bench",
                "userId": 1,
                "apiBaseUrl": "http://127.0.0.1:9",
            }
        )
    )
    checks = ["COLUMNS_NAME", "NANS", "IDS", "MOONS", "CONSTANTS"]
    (root / ".crunchdao" / "competition.json").write_text(
        json.dumps(
            {
                "competition": {"name": "bench", "format": "TIMESERIES", "metric": "spearman"},
                "dataRelease": {
                    "embargo": 0,
                    "numberOfFeatures": features,
                    "columnNames": {"id": "id", "moon": "moon", "target": "target"},
                    "dataFiles": {key: {"name": f"{key}.parquet"} for key in parts},
                },
                "checks": [{"function": name, "scope": "ROOT"} for name in checks],
            }
        )
    )
    (root / "main.py").write_text(textwrap.dedent(MODEL))
    (root / "resources").mkdir()
    return size


def measured(command: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """Wall time, CPU time of the whole process tree, and the peak of its summed RSS
    (sampled every 20 ms). CPU time barely moves when other work shares the machine."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    watched = psutil.Process(process.pid)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        with contextlib.suppress(psutil.Error):
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(_rss(member) for member in tree))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        sys.exit(f"{command[:3]} failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime, peak, output


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moons", type=int, default=500)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    crunch = Path(sys.executable).with_name("crunch")
    with tempfile.TemporaryDirectory(prefix="runner-bench-") as folder:
        root = Path(folder) / "workspace"
        size = make_workspace(root, arguments.moons, arguments.rows, arguments.features)
        harness_file = Path(folder) / "harness.py"
        harness_file.write_text(HARNESS)
        model_dir = Path(folder) / "harness-model"
        model_dir.mkdir()

        harness_command = [
            sys.executable, str(harness_file), str(root / "data"), str(model_dir), "0", str(root)
        ]  # fmt: skip
        bare_runs, test_runs = [], []
        for _ in range(arguments.repeat):  # alternated, so a busy moment hits both sides
            bare_runs.append(measured(harness_command, root))
            # --force-train: the harness trains on every moon too (crunch test would leave
            # out the train() calls whose data did not change)
            test_runs.append(measured([str(crunch), "test", "--force-train"], root))

    bare, test = (sorted(run[0] for run in runs) for runs in (bare_runs, test_runs))
    bare_cpu, test_cpu = (sorted(run[1] for run in runs) for runs in (bare_runs, test_runs))
    bare_rss, test_rss = (max(run[2] for run in runs) for runs in (bare_runs, test_runs))
    memory = re.search(r"peak memory\s+([\d.,]+) ([KMG])iB", test_runs[-1][3])
    if memory is None:
        sys.exit(f"no peak memory line in the output of crunch test:\n{test_runs[-1][3]}")
    scale = {"K": 1 / 1024, "M": 1, "G": 1024}[memory.group(2)]
    child = round(float(memory.group(1).replace(",", "")) * scale)
    mib = 1 << 20
    print(
        f"data: {arguments.moons} moons x {arguments.rows} rows x {arguments.features} features, "
        f"{size / mib:,.0f} MiB in memory (train and test halves, y included)"
    )
    print(f"runs: {arguments.repeat} of each, alternated; times as min / median")
    print(f"bare harness   wall {bare[0]:5.2f} / {statistics.median(bare):5.2f} s")
    print(f"crunch test    wall {test[0]:5.2f} / {statistics.median(test):5.2f} s")
    print(f"bare harness   cpu  {bare_cpu[0]:5.2f} / {statistics.median(bare_cpu):5.2f} s")
    print(f"crunch test    cpu  {test_cpu[0]:5.2f} / {statistics.median(test_cpu):5.2f} s")
    print(
        f"cpu ratio      {test_cpu[0] / bare_cpu[0]:.2f}x (min) / "
        f"{statistics.median(test_cpu) / statistics.median(bare_cpu):.2f}x (median)"
    )
    print(
        f"wall ratio     {test[0] / bare[0]:.2f}x (min) / "
        f"{statistics.median(test) / statistics.median(bare):.2f}x (median), target <= 1.3x"
    )
    runs = zip(test_runs, bare_runs, strict=True)
    pairs = sorted(crunch[0] / harness[0] for crunch, harness in runs)
    print(
        f"wall per pair  {statistics.median(pairs):.2f}x (median), "
        f"{pairs[0]:.2f}x to {pairs[-1]:.2f}x"
    )
    print(
        f"peak RSS       bare harness {bare_rss / mib:,.0f} MiB ({bare_rss / size:.2f}x the data); "
        f"crunch test {test_rss / mib:,.0f} MiB ({test_rss / size:.2f}x the data), "
        f"parent + child at the same instant, the child alone {child:,} MiB"
    )


if __name__ == "__main__":
    main()
