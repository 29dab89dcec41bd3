"""A real Ray cluster on this machine for the tests: a head and worker nodes, each a
`ray start --block` process of its own (so one node can be stopped alone), in a temporary
folder, each worker with its own CRUNCH_HUB_WORKER_DIR as if on a machine of its own.

The cluster's nodes are what `--executor ray` schedules runs on; `crunch hub serve
--executor ray --ray-address ADDRESS` (or a `HubSettings(executor="ray", ray_address=...)`)
joins it. `RayCluster.stop()` ends every node it started, then runs `ray stop --force`,
which also ends the worker processes the nodes started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 90.0
STARTED = "Ray runtime started"
NODE_MEMORY = 3 * 10**9
OBJECT_STORE_MEMORY = 100 * 10**6


def find_ray() -> Path | None:
    """The `ray` command of this interpreter's environment, if ray is installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return None
    command = Path(sys.executable).parent / "ray"
    return command if command.is_file() else None


@dataclasses.dataclass
class RayNode:
    process: subprocess.Popen[bytes]
    log: Path
    worker_dir: Path | None

    def stop(self) -> None:
        """End the node as `ray stop` would: its raylet and the worker processes it runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclasses.dataclass
class RayCluster:
    ray: Path
    folder: Path
    address: str
    head: RayNode
    workers: list[RayNode] = dataclasses.field(default_factory=list)

    def add_worker(self, name: str, *, cpus: int = 1, gpus: int = 0) -> RayNode:
        """Another node joining the cluster (`ray start --address`), with a worker folder of
        its own; `gpus` advertises GPUs to Ray (a label: no device comes with it)."""
        worker_dir = self.folder / name
        options = [f"--address={self.address}", f"--num-gpus={gpus}"]
        node = _start(self.ray, self.folder, name, options, cpus, worker_dir)
        self.workers.append(node)
        return node

    def stop(self) -> None:
        for node in [*self.workers, self.head]:
            node.stop()
        subprocess.run(
            [str(self.ray), "stop", "--force"], capture_output=True, timeout=120, check=False
        )


def start(ray: Path, folder: Path, *, head_cpus: int = 1) -> RayCluster:
    """A head node (which runs runs too, with `head_cpus` CPUs) on a free port."""
    port = _free_port()
    options = [
        "--head",
        f"--port={port}",
        "--include-dashboard=false",
        f"--temp-dir={folder / 'ray'}",
    ]
    head = _start(ray, folder, "head", options, head_cpus, folder / "head")
    host = _advertised_host(head.log)
    return RayCluster(ray, folder, f"{host}:{port}", head)


def _start(
    ray: Path, folder: Path, name: str, options: list[str], cpus: int, worker_dir: Path | None
) -> RayNode:
    log = folder / f"{name}.log"
    environment = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    if worker_dir is not None:
        worker_dir.mkdir(parents=True, exist_ok=True)
        environment["CRUNCH_HUB_WORKER_DIR"] = str(worker_dir)
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(ray),
                "start",
                "--block",
                *options,
                f"--num-cpus={cpus}",
                f"--memory={NODE_MEMORY}",
                f"--object-store-memory={OBJECT_STORE_MEMORY}",
                "--disable-usage-stats",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=folder,
        )
    node = RayNode(process, log, worker_dir)
    deadline = time.monotonic() + START_TIMEOUT
    while STARTED not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            node.stop()
            raise RuntimeError(f"ray node {name} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return node


def _advertised_host(log: Path) -> str:
    """The address the head told other nodes to join (`ray start --address='HOST:PORT'`)."""
    for line in log.read_text().splitlines():
        if "ray start --address=" in line:
            return line.split("--address=", 1)[1].strip(" '\"").rsplit(":", 1)[0]
    return socket.gethostbyname(socket.gethostname())


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
