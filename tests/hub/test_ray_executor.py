"""Runs on a Ray cluster (`crunch hub serve --executor ray`): a real head and a second node
joining it, each a `ray start` process (the session's `ray_cluster`); the hub fetches
nothing for them, its workers download every file through signed URLs.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from hubs import Caller, Hub, make_caller, serve_hub
from ray_cluster import RayCluster

from crunch_cli.hub import HubSettings, organizer

pytestmark = pytest.mark.slow

COMPETITION = "demo-timeseries"
REPORTS_GPU = b"""\
import time


def train(X_train, y_train, model_directory_path, has_gpu):
    print("has_gpu:", has_gpu)


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""
SLEEPS = REPORTS_GPU.replace(
    b'    print("has_gpu:", has_gpu)\n',
    b'    print("has_gpu:", has_gpu)\n    print("sleeping", flush=True)\n    time.sleep(6)\n',
)


@pytest.fixture
def ray_hub_at(
    ray_cluster: RayCluster,
    hub_root: Path,
    hub_database_url: str | None,
    hub_blob_options: dict[str, str],
) -> Callable[..., AbstractContextManager[Hub]]:
    """`with ray_hub_at() as hub:` a hub on the test's folder whose runs execute on the
    session's Ray cluster; a later `with` block is a restart of that hub. Its database and
    file store follow --hub-database and --hub-blob-store (on S3, workers download from
    the bucket's presigned URLs)."""
    options = {"database_url": hub_database_url, **hub_blob_options}
    organizer.update_limits(HubSettings(hub_root, **options), COMPETITION, run_memory_limit_mb=1024)
    return lambda workers=2: serve_hub(
        hub_root, workers, executor="ray", ray_address=ray_cluster.address, **options
    )


@pytest.fixture
def ray_hub(ray_hub_at: Callable[..., AbstractContextManager[Hub]]) -> Iterator[Hub]:
    with ray_hub_at() as hub:
        yield hub


def push_and_run(caller: Caller, main: bytes, **run: str) -> dict:
    response = caller.submit({"main.py": main})
    assert response.status_code == 200, response.text
    return caller.create_run(response.json()["id"], **run)


def lines_of(caller: Caller, run_id: int) -> list[str]:
    return [line["content"] for line in caller.run_logs(run_id)]


def wait_for_line(caller: Caller, run_id: int, pattern: str, timeout: float = 90) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in lines_of(caller, run_id):
            if found := re.search(pattern, line):
                return found
        time.sleep(0.1)
    raise AssertionError(f"no line matching {pattern!r} in {lines_of(caller, run_id)}")


def fetched_files(ray_cluster: RayCluster, node: str) -> list[Path]:
    """What a node's worker downloaded into its cache."""
    return [
        path for path in (ray_cluster.folder / node / "blob-cache").rglob("*") if path.is_file()
    ]


def test_a_push_runs_on_the_ray_cluster_is_scored_and_ranks(ray_hub, ray_cluster):
    caller = make_caller(ray_hub)

    run = caller.wait_for_run(push_and_run(caller, REPORTS_GPU)["id"], timeout=180)

    lines = lines_of(caller, run["id"])
    assert run["success"] is True, (run, lines[-20:])
    assert 0.1 < run["score"] < 0.6
    assert (run["runtime"], run["attempts"]) == ("cpu", 1)
    assert any(re.match(r"attempt 1 of 2 on Ray worker process \d+", line) for line in lines)
    assert "has_gpu: False" in lines  # a cpu run never gets a GPU
    assert any(line.startswith("score: spearman") for line in lines)
    assert not any(str(ray_cluster.folder) in line for line in lines)  # the worker's paths
    board = caller.call("GET", f"/v2/competitions/{COMPETITION}/leaderboards/@default").json()
    assert [(entry["runId"], entry["score"]) for entry in board["entries"]] == [
        (run["id"], run["score"])
    ]
    # the worker fetched the submission and the data itself, verified, into its own cache
    assert fetched_files(ray_cluster, "head") or fetched_files(ray_cluster, "worker-1")


def test_a_run_whose_ray_worker_is_killed_goes_back_to_the_queue_and_completes(ray_hub):
    caller = make_caller(ray_hub)
    run_id = push_and_run(caller, SLEEPS)["id"]

    pid = int(wait_for_line(caller, run_id, r"on Ray worker process (\d+)")[1])
    wait_for_line(caller, run_id, r"^sleeping$")
    os.kill(pid, signal.SIGKILL)
    run = caller.wait_for_run(run_id, timeout=180)

    lines = lines_of(caller, run_id)
    assert run["success"] is True, (run, lines[-20:])
    assert run["attempts"] == 2
    assert any(
        "the Ray worker running this run was lost" in line
        and "back to the queue (attempt 1 of 2)" in line
        for line in lines
    ), lines
    assert any(line.startswith("attempt 2 of 2 on Ray worker process") for line in lines)


def test_a_gpu_run_waits_for_a_gpu_worker_and_fails_after_the_queue_timeout(ray_hub):
    organizer.update_limits(
        ray_hub.settings, COMPETITION, runtimes=["cpu", "gpu"], queue_timeout_seconds=4
    )
    caller = make_caller(ray_hub)
    run_id = push_and_run(caller, REPORTS_GPU, runtimeDefinitionName="gpu")["id"]

    wait_for_line(caller, run_id, "^waiting: ")
    waiting = caller.run(run_id)
    run = caller.wait_for_run(run_id, timeout=60)

    assert waiting["status"] == "CREATED"
    assert "has a GPU" in waiting["waitingReason"]
    assert (run["success"], run["exitReason"]) == (False, "queue timeout")
    assert "has a GPU: waited 4 s (the queue timeout)" in run["errorMessage"]
    assert not any(line == "has_gpu: False" for line in lines_of(caller, run_id))  # never ran


def test_a_gpu_run_goes_to_the_worker_that_advertises_a_gpu(ray_hub, ray_cluster):
    """Without a real GPU here, a node advertises one to Ray (`--num-gpus 1`): the run is
    scheduled there, and the sandbox does not pretend to have a GPU that is not there."""
    organizer.update_limits(ray_hub.settings, COMPETITION, runtimes=["cpu", "gpu"])
    node = ray_cluster.add_worker("gpu-worker", gpus=1)
    try:
        caller = make_caller(ray_hub)
        run = caller.wait_for_run(
            push_and_run(caller, REPORTS_GPU, runtimeDefinitionName="gpu")["id"], timeout=180
        )
        lines = lines_of(caller, run["id"])
    finally:
        node.stop()
        ray_cluster.workers.remove(node)

    assert run["success"] is True, (run, lines[-20:])
    assert run["runtime"] == "gpu"
    assert any(re.search(r"on Ray worker process \d+ .*, GPU 0$", line) for line in lines)
    assert any("shows no NVIDIA device" in line for line in lines)
    assert "has_gpu: False" in lines
    assert fetched_files(ray_cluster, "gpu-worker")  # it ran there


def test_a_hub_restarted_while_a_run_executes_finds_it_again(ray_hub_at):
    with ray_hub_at() as hub:
        caller = make_caller(hub)
        run_id = push_and_run(caller, SLEEPS)["id"]
        wait_for_line(caller, run_id, r"^sleeping$")

    with ray_hub_at() as hub:
        caller.url = hub.url
        run = caller.wait_for_run(run_id, timeout=120)
        lines = lines_of(caller, run_id)

    assert run["success"] is True, (run, lines[-20:])
    assert run["attempts"] == 1
    assert "the hub restarted and found this run again on the Ray cluster" in lines
    for line in ("has_gpu: False", "sleeping"):  # no line stored twice across the restart
        assert lines.count(line) == 1, lines
    assert sum(line.startswith("attempt 1 of 2 on Ray") for line in lines) == 1


def test_a_run_terminated_on_the_ray_cluster_stops_there(ray_hub):
    caller = make_caller(ray_hub)
    run_id = push_and_run(caller, SLEEPS)["id"]
    wait_for_line(caller, run_id, r"^sleeping$")

    response = caller.call("DELETE", f"{caller.project_path(3)}/runs/{run_id}")
    run = caller.wait_for_run(run_id, timeout=30)

    assert response.status_code == 200, response.text
    assert (run["success"], run["terminated"], run["exitReason"]) == (False, True, "terminated")
    assert not any(line.startswith("score:") for line in lines_of(caller, run_id))


def test_serving_on_a_ray_cluster_nobody_answers_at_fails_before_serving(tmp_path, run_crunch):
    pytest.importorskip("ray")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]

    result = run_crunch(
        "hub", "serve", "--executor", "ray", "--ray-address", f"127.0.0.1:{closed}",
        "--root", str(tmp_path / "hub"), "--port", "0",
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: cannot join the Ray cluster at 127.0.0.1:{closed}: nothing answers there"
    )
    assert "--ray-address" in result.stderr
