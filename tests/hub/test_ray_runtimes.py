"""Runtimes on either executor: an organizer offers `gpu` runs and sets the queue timeout;
a run no worker can take says why while it waits, then fails. These run on the hub's own
pool (`--executor local`); the Ray cluster's side is in test_ray_executor.py."""

from __future__ import annotations

import time

import pytest
from hubs import Caller
from test_hub_runs import GOOD, push

from crunch_cli.hub import organizer
from crunch_cli.runner.gpu import detect_gpu

COMPETITION = "demo-timeseries"


def test_an_organizer_offers_gpu_runs_with_cpus_and_a_queue_timeout(hub, caller, run_crunch):
    result = run_crunch(
        "hub", "competition", "limits", COMPETITION, "--runtimes", "cpu,gpu",
        "--run-cpus", "2", "--queue-timeout", "30", "--root", str(hub.root),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "runtimes                 cpu,gpu" in lines
    assert "run-cpus                 2" in lines
    assert "queue-timeout-seconds    30" in lines
    listed = caller.call("GET", f"/v1/competitions/{COMPETITION}/runtime-definitions").json()
    assert [
        (item["name"], item["specification"]["gpu"]["count"]) for item in listed["content"]
    ] == [
        ("cpu", None),
        ("gpu", 1),
    ]


def test_an_unknown_runtime_is_refused_with_the_known_ones(hub, run_crunch):
    result = run_crunch(
        "hub", "competition", "limits", COMPETITION, "--runtimes", "cpu,tpu",
        "--root", str(hub.root),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown runtime tpu")
    assert "cpu, gpu" in result.stderr


def test_a_competition_without_gpu_runs_refuses_one(caller):
    submission = push(caller, GOOD)

    response = caller.call(
        "POST",
        caller.project_path(3) + "/runs",
        json={"submissionId": submission["id"], "runtimeDefinitionName": "gpu"},
    )

    assert (response.status_code, response.json()["code"]) == (
        404,
        "RUNTIME_DEFINITION_NOT_FOUND",
    )


@pytest.mark.skipif(detect_gpu(), reason="this machine has a GPU: its hub runs gpu runs")
def test_a_gpu_run_on_a_hub_without_a_gpu_waits_saying_why_then_fails(hub, caller: Caller):
    organizer.update_limits(
        hub.settings, COMPETITION, runtimes=["cpu", "gpu"], queue_timeout_seconds=3
    )
    submission = push(caller, GOOD)

    created = caller.create_run(submission["id"], runtimeDefinitionName="gpu")
    time.sleep(1.5)
    waiting = caller.run(created["id"])
    ended = caller.wait_for_run(created["id"], timeout=30)
    cpu = caller.wait_for_run(caller.create_run(submission["id"])["id"])

    assert (created["runtime"], waiting["status"]) == ("gpu", "CREATED")
    assert waiting["waitingReason"].startswith("this hub has no GPU")
    first_line = caller.run_logs(created["id"])[0]["content"]
    assert first_line.startswith("waiting: this hub has no GPU")
    assert (ended["success"], ended["exitReason"], ended["attempts"]) == (
        False,
        "queue timeout",
        0,
    )
    assert ended["errorMessage"].endswith("waited 3 s (the queue timeout)")
    assert (cpu["success"], cpu["runtime"], cpu["attempts"]) == (True, "cpu", 1)
