"""Throughput of many concurrent pushes against a fresh hub.

    .venv/bin/python benchmarks/load_bench.py [--pushes 40] [--singles 3]

Starts `crunch hub serve --demo` in a temp folder, sets up one workspace per competitor
(each its own user and project) with the time-series quickstarter, times `--singles` pushes
one after another (a push alone), then `--pushes` pushes at once, one client thread each,
running what `crunch push` runs. Prints the total time, pushes per second and the latency
of one push (p50, p95); asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _hub import running_hub

import crunch_cli
from crunch_cli.environments import Settings
from crunch_cli.hub import HubSettings, organizer
from crunch_cli.push.bundle import build_bundle
from crunch_cli.push.submit import submit
from crunch_cli.push.upload import CACHE_FILE, UploadCache
from crunch_cli.setup_project import setup_project
from crunch_cli.workspace import Workspace

COMPETITION = "demo-timeseries"
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


def workspaces(root: Path, url: str, base: Path, count: int, prefix: str) -> list[Workspace]:
    made = []
    for number in range(count):
        login = f"{prefix}{number}"
        token = organizer.mint_setup_token(HubSettings(root), COMPETITION, login, "bench")
        workspace = setup_project(
            competition=COMPETITION,
            project="bench",
            token=token,
            base_url=url,
            directory=base / login,
            with_data=False,
        ).workspace
        for name in ("main.py", "requirements.txt"):
            shutil.copyfile(TEMPLATE / name, workspace.root / name)
        made.append(workspace)
    return made


def timed_push(workspace: Workspace) -> float:
    started = time.perf_counter()
    cache = UploadCache(workspace.metadata_dir / CACHE_FILE)
    bundle = build_bundle(workspace, freeze=False, cache=cache)
    client = Settings().workspace(workspace).client()
    submit(client, workspace, bundle, cache, message="benchmark")
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=40)
    parser.add_argument("--singles", type=int, default=3)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="load-bench-") as temporary:
        base = Path(temporary)
        root = base / "hub"
        with running_hub(root, "--demo") as url:
            alone = workspaces(root, url, base, options.singles, "alone")
            crowd = workspaces(root, url, base, options.pushes, "crowd")
            singles = [timed_push(workspace) for workspace in alone]
            started = time.perf_counter()
            with ThreadPoolExecutor(options.pushes) as pool:
                latencies = list(pool.map(timed_push, crowd))
            total = time.perf_counter() - started

    print(f"one push alone (median of {options.singles}): {statistics.median(singles):.3f} s")
    print(f"{options.pushes} concurrent pushes: {total:.2f} s in all")
    print(f"throughput: {options.pushes / total:.1f} pushes/s")
    print(
        f"latency of one push: p50 {percentile(latencies, 0.5):.2f} s, "
        f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
    )


if __name__ == "__main__":
    main()
