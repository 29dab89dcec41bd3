"""What every benchmark needs: a real hub in a subprocess and a workspace set up on it."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

CRUNCH = str(Path(sys.executable).parent / "crunch")


def crunch(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([CRUNCH, *args], check=True, capture_output=True, text=True, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_hub(root: Path, *extra: str) -> Iterator[str]:
    """`crunch hub serve` on a free loopback port; yields its URL once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [CRUNCH, "hub", "serve", "--root", str(root), "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                requests.get(url + "/v2/competitions", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait()


def set_up_workspace(root: Path, url: str, competition: str, workspace: Path, *args: str) -> str:
    """Mint a token on the hub's root folder, `crunch setup` with it (on standard input, as
    the printed setup line does); returns the project token."""
    token = crunch("hub", "token", competition, "alice", "alpha", "--root", str(root))
    setup_token = token.stdout.splitlines()[1].strip()
    crunch(
        "--api-base-url",
        url,
        "setup",
        competition,
        "alpha",
        str(workspace),
        "--token",
        "-",
        *args,
        input=setup_token,
    )
    return (workspace / ".crunchdao" / "token").read_text().strip()


@contextlib.contextmanager
def bench_workspace(base: Path, data: Path) -> Iterator[tuple[str, Path, str]]:
    """A competition `bench` made from `data`, its hub running, and a workspace set up on it
    without its data; yields (hub URL, workspace, project token)."""
    root = base / "hub"
    crunch("hub", "competition", "create", "bench", "--data-dir", str(data), "--root", str(root))
    with running_hub(root) as url:
        workspace = base / "workspace"
        yield url, workspace, set_up_workspace(root, url, "bench", workspace, "--no-data")


COMPETITION = "demo-timeseries"
MAIN = """\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""
"""A trivial time-series submission: the runs it makes cost the hub, not the model."""


class Project:
    """The benchmark's project on the hub, over plain HTTP (no client start-up per call)."""

    def __init__(self, url: str, token: str) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Project-Token {token}"
        self.base = f"{url}/v3/competitions/{COMPETITION}/projects/@me/alpha"

    def last_submission_id(self) -> int:
        response = self.session.get(f"{self.base}/submissions/@last")
        response.raise_for_status()
        return response.json()["id"]

    def create_run(self, submission_id: int) -> int:
        response = self.session.post(f"{self.base}/runs", json={"submissionId": submission_id})
        response.raise_for_status()
        return response.json()["id"]

    def completed(self, wanted: set[int]) -> list[dict]:
        """The runs of `wanted` that have ended: one request, light on the hub."""
        response = self.session.get(f"{self.base}/runs", params={"size": 1000})
        return [
            run
            for run in response.json()["content"]
            if run["id"] in wanted and run["status"] == "COMPLETED"
        ]

    def wait(self, run_ids: list[int]) -> list[dict]:
        """Poll until every run has ended; exits the benchmark if one failed."""
        while len(done := self.completed(set(run_ids))) < len(run_ids):
            time.sleep(0.1)
        runs = {run["id"]: run for run in done}
        for run in runs.values():
            if not run["success"]:
                raise SystemExit(f"run {run['id']} failed: {run['errorMessage']}")
        return [runs[run_id] for run_id in run_ids]
