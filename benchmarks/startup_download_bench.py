"""Start-up time of `crunch --help`, and data download throughput versus curl.

Run: .venv/bin/python benchmarks/startup_download_bench.py [--size-mb 256] [--runs 3]

It starts a real hub (`crunch hub serve`) on loopback with a competition whose X_train is
an incompressible parquet file of the given size, sets up a workspace, then times
`crunch download` (metadata calls + transfer + sha256 check + rename) against `curl -o` of
the very same signed URL. Figures are printed side by side; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy
import pandas
import requests
from _hub import CRUNCH, bench_workspace


def median_seconds(command: list[str], runs: int, **kwargs) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **kwargs)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def write_data(folder: Path, size_mb: int) -> None:
    rows = size_mb * 1_000_000 // (8 * 20)
    generator = numpy.random.default_rng(0)
    features = {f"feature_{index:02d}": generator.random(rows) for index in range(18)}
    frame = pandas.DataFrame(
        {"id": numpy.arange(rows) % 1000, "moon": numpy.arange(rows) // 1000, **features}
    )
    frame.to_parquet(folder / "X_train.parquet", compression=None)
    small = frame.head(2000)
    small.to_parquet(folder / "X_test.parquet")
    targets = small[["id", "moon"]].assign(target=0.5)
    targets.to_parquet(folder / "y_train.parquet")
    small[["id", "moon"]].assign(prediction=0.5).to_parquet(folder / "example_prediction.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--help-runs", type=int, default=15)
    options = parser.parse_args()

    help_seconds = median_seconds([CRUNCH, "--help"], options.help_runs)
    version_seconds = median_seconds([CRUNCH, "--version"], options.help_runs)

    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        (base / "data").mkdir()
        write_data(base / "data", options.size_mb)
        with bench_workspace(base, base / "data") as (url, workspace, project_token):
            release = requests.get(
                url + "/v2/competitions/bench/rounds/@current/phases/submission/data-release",
                headers={"Authorization": f"Project-Token {project_token}"},
                timeout=30,
            ).json()
            entry = release["dataFiles"]["X_train"]
            size = entry["size"]

            crunch_times, curl_times = [], []
            for _ in range(options.runs):
                shutil.rmtree(workspace / "data")
                (workspace / "data").mkdir()
                started = time.perf_counter()
                subprocess.run(
                    [CRUNCH, "download"],
                    cwd=workspace,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                crunch_times.append(time.perf_counter() - started)

                target = base / "curl.out"
                started = time.perf_counter()
                subprocess.run(["curl", "-sf", "-o", str(target), entry["url"]], check=True)
                curl_times.append(time.perf_counter() - started)
                target.unlink()

    crunch_seconds = statistics.median(crunch_times)
    curl_seconds = statistics.median(curl_times)
    print(f"crunch --help      median of {options.help_runs}: {help_seconds * 1000:7.0f} ms")
    print(f"crunch --version   median of {options.help_runs}: {version_seconds * 1000:7.0f} ms")
    print(f"download of X_train.parquet, {size / 1e6:.0f} MB, median of {options.runs} runs:")
    print(
        f"  crunch download  {crunch_seconds:6.2f} s  {size / crunch_seconds / 1e6:7.0f} MB/s"
        "  (metadata + transfer + sha256 check)"
    )
    print(f"  curl -o          {curl_seconds:6.2f} s  {size / curl_seconds / 1e6:7.0f} MB/s")
    print(f"  ratio crunch/curl: {crunch_seconds / curl_seconds:.2f}")
    print(f"(cores: {os.cpu_count()})")


if __name__ == "__main__":
    main()
