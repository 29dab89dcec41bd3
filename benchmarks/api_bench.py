"""The hub's read API under concurrent clients: PostgreSQL versus SQLite, in one run.

    .venv/bin/python benchmarks/api_bench.py [--clients 50] [--seconds 10] [--submissions 5]

For each database, starts `crunch hub serve --workers 0` on a fresh root holding the demo
competitions (PostgreSQL: a throw-away server, as the tests start one, from Debian's
package), pushes `--submissions` submissions, then lets `--clients` threads, each with its
own requests session, call the data release, the leaderboard and the submission list in
turn for `--seconds`. Prints requests per second and the p50/p99 latency of each endpoint,
the two databases side by side; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from _hub import running_hub

# tests/postgres_server.py starts the throw-away server, tests/hubs.py calls the API.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import postgres_server
from hubs import Caller, Hub, make_caller

from crunch_cli.hub import HubSettings
from crunch_cli.hub.demo import create_demo_competitions

COMPETITION = "demo-timeseries"
MAIN = b"def train(X_train, y_train, model_directory_path):\n    pass\n"
ENDPOINTS = {
    "data-release": f"/v2/competitions/{COMPETITION}/rounds/@current/phases/@current/data-release",
    "leaderboard": f"/v2/competitions/{COMPETITION}/leaderboards/@default",
    "submissions": "",  # the caller's project's list, filled in once the project is known
}


@contextmanager
def database_url(kind: str) -> Iterator[str | None]:
    """None: the root's SQLite file; else a database on a throw-away PostgreSQL server."""
    if kind == "sqlite":
        yield None
        return
    bin_dir = postgres_server.find_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server found (initdb): apt-get install postgresql")
    server = postgres_server.start(bin_dir)
    try:
        yield server.create_database("bench")
    finally:
        server.stop()


def hammer(url: str, caller: Caller, clients: int, seconds: float) -> dict[str, list[float]]:
    """Each client calls the endpoints in turn until time is up; latencies by endpoint."""
    paths = {**ENDPOINTS, "submissions": caller.project_path(3) + "/submissions"}
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def client() -> None:
        mine: dict[str, list[float]] = {name: [] for name in paths}
        with requests.Session() as session:
            session.headers.update(caller.headers)
            start.wait()
            while time.monotonic() < deadline:
                for name, path in paths.items():
                    began = time.perf_counter()
                    response = session.get(url + path, timeout=60)
                    mine[name].append(time.perf_counter() - began)
                    if response.status_code != 200:
                        with lock:
                            errors.append(f"{name}: {response.status_code}")
        with lock:
            for name, values in mine.items():
                latencies[name].extend(values)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join()
    if errors:
        print(f"  {len(errors)} failed requests, first: {errors[0]}")
    return latencies


def measure(kind: str, options: argparse.Namespace) -> tuple[float, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory() as folder, database_url(kind) as url:
        root = Path(folder) / "hub"
        settings = HubSettings(root, database_url=url)
        create_demo_competitions(settings)
        extra = ("--workers", "0") + (("--database-url", url) if url else ())
        with running_hub(root, *extra) as hub_url:
            caller = make_caller(Hub(hub_url, root, settings), "alice", "bench")
            for _ in range(options.submissions):
                pushed = caller.submit({"main.py": MAIN})
                assert pushed.status_code == 200, pushed.text
            latencies = hammer(hub_url, caller, options.clients, options.seconds)
    total = sum(len(values) for values in latencies.values())
    return total / options.seconds, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--submissions", type=int, default=5)
    options = parser.parse_args()
    results = {kind: measure(kind, options) for kind in ("postgresql", "sqlite")}

    print(f"{options.clients} clients, {options.seconds:g} s each, hub with --workers 0")
    print(f"{'':24}{'postgresql':>22}{'sqlite':>22}")
    print(f"{'requests/s (all)':24}" + "".join(f"{rate:>22.0f}" for rate, _ in results.values()))
    for name in ENDPOINTS:
        cells = []
        for _, latencies in results.values():
            values = latencies[name]
            p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
            cells.append(f"{len(values) / options.seconds:>6.0f}/s {p50:>5.0f}/{p99:>5.0f} ms")
        print(f"{name + ' (p50/p99)':24}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
