"""100 small runs on a local Ray cluster of two worker processes versus the hub's own pool.

    .venv/bin/python benchmarks/ray_bench.py [--runs 100] [--pool-workers 2] [--ray-workers 4]

Starts a Ray cluster on this machine (a head and a second node joining it, one CPU each, as
the tests do), then, for each executor in turn, `crunch hub serve --demo` in a temp folder
(`--executor local --workers 2`, then `--executor ray --ray-address ... --workers 4`: four
runs in flight, so a node never waits for the hub between two runs), pushes one
time-series submission with `crunch push` and queues `--runs` runs of it in one burst.
Prints, side by side, the time to the first result (first POST to the first COMPLETED
run), the time until the last one completed and the throughput. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from _hub import COMPETITION, CRUNCH, MAIN, Project, crunch, free_port, set_up_workspace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import ray_cluster  # the tests' own cluster helper, found through the path above


def burst(url: str, root: Path, workspace: Path, runs: int) -> tuple[float, float]:
    """(seconds to the first result, seconds until the last) of `runs` runs queued at once."""
    token = set_up_workspace(root, url, COMPETITION, workspace)
    (workspace / "main.py").write_text(MAIN)
    crunch("push", "-m", "benchmark", cwd=workspace)
    project = Project(url, token)
    submission_id = project.last_submission_id()
    started = time.perf_counter()
    wanted = {project.create_run(submission_id) for _ in range(runs)}
    first = None
    while len(done := project.completed(wanted)) < runs:
        if done and first is None:
            first = time.perf_counter() - started
        time.sleep(0.1)
    last = time.perf_counter() - started
    if failed := [run for run in done if not run["success"]]:
        raise SystemExit(f"run {failed[0]['id']} failed: {failed[0]['errorMessage']}")
    return first if first is not None else last, last


def measure(base: Path, runs: int, *serve: str) -> tuple[float, float]:
    root, workspace = base / "hub", base / "workspace"
    with serving(root, "--demo", *serve) as url:
        crunch(
            "hub", "competition", "limits", COMPETITION, "--run-memory-limit", "1024",
            "--root", str(root),
        )  # fmt: skip
        return burst(url, root, workspace, runs)


@contextlib.contextmanager
def serving(root: Path, *extra: str) -> Iterator[str]:
    """`crunch hub serve` on a free loopback port, its output in ROOT.log; yields its URL
    once it answers (a hub joining a Ray cluster takes a few seconds to)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{root}.log", "wb") as log:
        server = subprocess.Popen(
            [CRUNCH, "hub", "serve", "--root", str(root), "--port", str(port), *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(url + "/v2/competitions", timeout=5)
                break
            except requests.RequestException:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(Path(f"{root}.log").read_text()[-3000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--pool-workers", type=int, default=2)
    parser.add_argument("--ray-workers", type=int, default=4)
    options = parser.parse_args()
    ray = ray_cluster.find_ray()
    if ray is None:
        raise SystemExit("ray is not installed: pip install -e '.[ray]'")

    with tempfile.TemporaryDirectory(prefix="ray-bench-", dir="/tmp") as temporary:
        base = Path(temporary)
        (base / "local").mkdir()
        local = measure(base / "local", options.runs, "--workers", str(options.pool_workers))
        (base / "cluster").mkdir()
        cluster = ray_cluster.start(ray, base / "cluster")
        try:
            cluster.add_worker("worker-1")
            (base / "ray").mkdir()
            on_ray = measure(
                base / "ray",
                options.runs,
                *("--executor", "ray", "--ray-address", cluster.address),
                *("--workers", str(options.ray_workers)),
            )
        finally:
            cluster.stop()

    print(f"{options.runs} runs of one time-series submission, queued at once")
    print(f"{'':32}{'local pool':>18}{'Ray, 2 nodes':>18}")
    print(f"{'executor':32}{f'--workers {options.pool_workers}':>18}", end="")
    print(f"{f'--workers {options.ray_workers}':>18}")
    print(f"{'first result (s)':32}{local[0]:>18.2f}{on_ray[0]:>18.2f}")
    print(f"{'last result (s)':32}{local[1]:>18.2f}{on_ray[1]:>18.2f}")
    print(
        f"{'throughput (runs/min)':32}{60 * options.runs / local[1]:>18.1f}"
        f"{60 * options.runs / on_ray[1]:>18.1f}"
    )


if __name__ == "__main__":
    main()
