"""Push of a large model to a hub on loopback (first and second time) versus `curl -T`,
and requirements freezing versus `pip freeze`.

Run: .venv/bin/python benchmarks/push_bench.py [--size-mb 1000]

The hub is a real `crunch hub serve` subprocess. `curl -T` uploads the same file to the
hub's own presigned PUT URL (one chunk the size of the file): the plain-upload baseline.
Figures are printed side by side; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from _hub import CRUNCH, bench_workspace, crunch

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "timeseries"


def timed(*command: str, **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)
    return time.perf_counter() - started


def write_random(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(64 << 20)
    with open(path, "wb") as file:
        left = size
        while left > 0:
            file.write(block[: min(left, len(block))])
            left -= len(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--freeze-runs", type=int, default=5)
    options = parser.parse_args()
    size = options.size_mb * 1_000_000

    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        crunch("hub", "demo-data", str(base / "data"), "--format", "timeseries")
        with bench_workspace(base, base / "data") as (url, workspace, project_token):
            for name in ("main.py", "requirements.txt"):
                shutil.copyfile(TEMPLATE / name, workspace / name)
            model = workspace / "resources" / "model.bin"
            write_random(model, size)

            first = timed(CRUNCH, "push", "-m", "first", cwd=workspace)
            second = timed(CRUNCH, "push", "-m", "second", cwd=workspace)

            headers = {"Authorization": f"Project-Token {project_token}"}
            upload = requests.post(
                url + "/v1/uploads",
                json={"name": "model.bin", "size": size, "preferredChunkSize": size},
                headers=headers,
                timeout=30,
            ).json()
            signed = requests.get(
                f"{url}/v1/uploads/{upload['id']}/chunks/1/request", headers=headers, timeout=30
            ).json()
            curl = timed("curl", "-sf", "-o", "/dev/null", "-T", str(model), signed["url"])

    from crunch_cli.requirements import freeze, parse_requirements_file

    names = [
        "pandas",
        "numpy",
        "pyarrow",
        "requests",
        "typer",
        "rich",
        "packaging",
        "pathspec",
        "psutil",
        "fastapi",
        "uvicorn",
        "sqlalchemy",
        "nbformat",
        "hypothesis",
        "pytest",
    ]
    requirements = parse_requirements_file("\n".join(names) + "\n")
    ours = []
    for _ in range(options.freeze_runs):
        started = time.perf_counter()
        freeze(requirements)
        ours.append(time.perf_counter() - started)
    pip = [
        timed(sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check")
        for _ in range(options.freeze_runs)
    ]

    megabytes = size / 1e6
    print(f"push of a {megabytes:.0f} MB model to the hub on loopback:")
    print(f"  crunch push, first time   {first:7.2f} s  {megabytes / first:7.0f} MB/s")
    print(f"  crunch push, unchanged    {second:7.2f} s  (nothing re-sent)")
    print(f"  curl -T to a presigned PUT {curl:6.2f} s  {megabytes / curl:7.0f} MB/s")
    print(f"  ratio first push / curl:  {first / curl:.2f}")
    print(f"freeze of {len(names)} requirements, median of {options.freeze_runs}:")
    print(f"  crunch (importlib.metadata) {statistics.median(ours) * 1000:7.1f} ms")
    print(f"  pip freeze                  {statistics.median(pip) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
