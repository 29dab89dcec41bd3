"""A run's life on the hub: the queue, listing, logs, terminating, restarts, concurrency."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update
from test_hub_runs import GOOD, push, training_does, user_lines

from crunch_cli.hub.models import Run
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.both_databases

if TYPE_CHECKING:
    from hubs import Caller

SLEEPER = training_does(b'print("sleeping", flush=True); __import__("time").sleep(60)')


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def started(caller: Caller, run_id: int) -> bool:
    return "sleeping" in user_lines(caller, run_id)


@pytest.mark.hub_workers(0)
def test_runs_are_listed_newest_first_one_page_at_a_time(caller):
    submission = push(caller, GOOD)
    ids = [caller.create_run(submission["id"])["id"] for _ in range(3)]

    first = caller.call("GET", caller.project_path(3) + "/runs", params={"size": 2}).json()
    second = caller.call("GET", caller.project_path(3) + "/runs", params={"page": 1, "size": 2})

    assert [run["id"] for run in first["content"]] == ids[:0:-1]
    assert (first["totalElements"], first["totalPages"], first["pageSize"]) == (3, 2, 2)
    assert [run["id"] for run in second.json()["content"]] == ids[:1]
    assert {run["status"] for run in first["content"]} == {"CREATED"}


def test_logs_after_a_line_id_return_only_newer_lines(caller):
    run = caller.create_run(push(caller, GOOD)["id"])
    caller.wait_for_run(run["id"])

    lines = caller.run_logs(run["id"])
    middle = lines[len(lines) // 2]["id"]

    assert [line["id"] for line in lines] == sorted(line["id"] for line in lines)
    assert caller.run_logs(run["id"], after=middle) == [x for x in lines if x["id"] > middle]
    assert caller.run_logs(run["id"], after=lines[-1]["id"]) == []


def test_an_unknown_run_is_reported_with_its_id(caller):
    response = caller.call("GET", caller.project_path(3) + "/runs/999")

    assert response.status_code == 404
    assert response.json()["code"] == "RUN_NOT_FOUND"
    assert response.json()["runId"] == 999


def test_another_projects_submission_and_runs_are_out_of_reach(caller, caller_for):
    mine = push(caller, GOOD)
    run = caller.create_run(mine["id"])
    other = caller_for("bob", "beta")

    create = other.call("POST", other.project_path(3) + "/runs", json={"submissionId": mine["id"]})
    show = other.call("GET", f"{other.project_path(3)}/runs/{run['id']}")
    peek = other.call("GET", f"{caller.project_path(3)}/runs/{run['id']}")

    assert (create.status_code, create.json()["code"]) == (404, "SUBMISSION_NOT_FOUND")
    assert (show.status_code, show.json()["code"]) == (404, "RUN_NOT_FOUND")
    assert (peek.status_code, peek.json()["code"]) == (403, "ACCESS_DENIED")


def test_a_run_refuses_a_negative_train_frequency(caller):
    """0 is allowed: crunch-cli 13's default, training at the first moon only."""
    submission = push(caller, GOOD)
    response = caller.call(
        "POST",
        caller.project_path(3) + "/runs",
        json={"submissionId": submission["id"], "trainFrequency": -1},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"


def test_terminating_stops_a_running_run_and_drops_a_queued_one(caller):
    submission = push(caller, SLEEPER)
    running = caller.create_run(submission["id"])
    queued = caller.create_run(submission["id"])
    wait_until(lambda: started(caller, running["id"]))

    dropped = caller.call("DELETE", f"{caller.project_path(3)}/runs/{queued['id']}").json()
    stopped = caller.call("DELETE", f"{caller.project_path(3)}/runs/{running['id']}").json()

    for run in (dropped, stopped):
        assert run["status"] == "COMPLETED"
        assert (run["success"], run["terminated"]) == (False, True)
        assert run["exitReason"] == "terminated"
        assert run["errorMessage"] == "the run was terminated"
    assert dropped["startedAt"] == dropped["endedAt"]
    assert stopped["duration"] < 30
    assert caller.run(queued["id"])["exitReason"] == "terminated"  # no worker took it after


def test_a_queued_run_survives_a_hub_restart(restartable_hub, new_caller):
    with restartable_hub(workers=0) as hub:
        caller = new_caller(hub)
        run = caller.create_run(push(caller, GOOD)["id"])

    with restartable_hub() as hub:
        caller.url = hub.url
        done = caller.wait_for_run(run["id"])

    assert done["success"] is True
    assert done["score"] is not None


def test_a_run_cut_short_by_the_hub_stopping_or_crashing_fails_with_the_reason(
    restartable_hub, new_caller
):
    with restartable_hub() as hub:
        caller = new_caller(hub)
        submission = push(caller, SLEEPER)
        stopped = caller.create_run(submission["id"])
        crashed = caller.create_run(submission["id"])
        wait_until(lambda: started(caller, stopped["id"]))
    # What a crash leaves behind: a run marked running that no process runs any more.
    with HubStore(hub.settings) as store, store.session() as session:
        session.execute(update(Run).where(Run.id == crashed["id"]).values(status="RUNNING"))

    with restartable_hub(workers=0) as hub:
        caller.url = hub.url
        runs = [caller.run(stopped["id"]), caller.run(crashed["id"])]

    for run in runs:
        assert run["status"] == "COMPLETED"
        assert (run["success"], run["exitReason"]) == (False, "error")
        assert run["errorMessage"] == "the hub stopped while this run was running"


def test_two_projects_pushing_and_running_at_once_lose_nothing(hub, caller_for):
    callers = [caller_for("alice", "alpha"), caller_for("bob", "beta")]

    def push_and_run(caller: Caller) -> dict:
        marker = f"I am {caller.project}".encode()
        submission = push(caller, training_does(b'print("' + marker + b'")'))
        return caller.wait_for_run(caller.create_run(submission["id"])["id"])

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(push_and_run, callers))

    for caller, run in zip(callers, runs, strict=True):
        assert run["success"] is True, run
        listed = caller.call("GET", caller.project_path(3) + "/runs").json()
        assert [item["id"] for item in listed] == [run["id"]]
        printed = [line for line in user_lines(caller, run["id"]) if line.startswith("I am")]
        assert set(printed) == {f"I am {caller.project}"}  # train() runs once per moon
    board = callers[0].call("GET", "/v2/competitions/demo-timeseries/leaderboards/@default")
    entries = board.json()["entries"]
    assert sorted(entry["projectName"] for entry in entries) == ["alpha", "beta"]
    assert [entry["rank"] for entry in entries] == [1, 1]  # same model, same score: same rank
    assert entries[0]["score"] == entries[1]["score"]
    assert entries[0]["scoredAt"] <= entries[1]["scoredAt"]  # the first scored is listed first


def test_a_second_hub_on_the_same_folder_leaves_running_runs_alone_and_can_stop_them(
    hub, caller, restartable_hub
):
    running = caller.create_run(push(caller, SLEEPER)["id"])
    wait_until(lambda: started(caller, running["id"]))

    with restartable_hub() as second:
        first_url, caller.url = caller.url, second.url
        seen = caller.run(running["id"])
        asked = caller.call("DELETE", f"{caller.project_path(3)}/runs/{running['id']}").json()
        caller.url = first_url
        stopped = caller.wait_for_run(running["id"], timeout=15)

    assert seen["status"] == "RUNNING"
    assert asked["terminated"] is True
    assert (stopped["exitReason"], stopped["errorMessage"]) == (
        "terminated",
        "the run was terminated",
    )
