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
