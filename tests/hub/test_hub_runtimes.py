"""What crunch-cli 13's run, runtime, quota and leaderboard commands read from the hub:
runtimes, the compute quota, the run list without paging, the selection, and where a
project stands on the leaderboard."""

from __future__ import annotations

import os

import pytest
from test_hub_runs import GOOD, push, run_submission

CPU_RUNTIME = {
    "id": 1,
    "name": "cpu",
    "type": "CPU",
    "status": "ACTIVE",
    "displayName": "CPU",
    "description": "the hub's sandbox: 90 s and 2560 MiB per run",
    "poweredBy": {"text": "crunch hub", "url": ""},
    "specification": {
        "memory": {"size": 2, "megabytes": 2560},
        "cpu": {"coreCount": os.cpu_count()},
        "gpu": {"count": None, "model": None, "driver": None},
    },
}


def changes_path(caller, user: str = "@me") -> str:
    return f"/v3/competitions/{caller.competition}/leaderboards/default/changes/users/{user}"


def test_the_one_runtime_is_the_cpu_with_the_competitions_limits(hub, caller):
    hub.set_limits(caller.competition, run_time_limit_seconds=90, run_memory_limit_mb=2560)
    push(caller, GOOD)

    definitions = caller.call("GET", f"/v1/competitions/{caller.competition}/runtime-definitions")
    options = caller.call("GET", caller.project_path(3) + "/submissions/1/runtime-options")

    assert definitions.json()["content"] == [CPU_RUNTIME]
    assert options.json()["content"] == [
        {"definition": CPU_RUNTIME, "quota": 90, "recommended": True, "status": "AVAILABLE"}
    ]
    assert options.json()["pageSize"] == 100


def test_runtime_options_need_an_existing_submission(caller):
    response = caller.call("GET", caller.project_path(3) + "/submissions/1/runtime-options")

    assert (response.status_code, response.json()["code"]) == (404, "SUBMISSION_NOT_FOUND")


def test_a_run_on_an_unknown_runtime_is_refused_and_the_cpu_one_accepted(caller):
    submission = push(caller, GOOD)
    path = caller.project_path(3) + "/runs"

    gpu = caller.call(
        "POST", path, json={"submissionId": submission["id"], "runtimeDefinitionName": "gpu"}
    )
    cpu = caller.call(
        "POST", path, json={"submissionId": submission["id"], "runtimeDefinitionName": "cpu"}
    )

    assert gpu.status_code == 404
    assert gpu.json()["code"] == "RUNTIME_DEFINITION_NOT_FOUND"
    assert gpu.json()["runtimeDefinitionName"] == "gpu"
    assert cpu.status_code == 200, cpu.text


@pytest.mark.hub_workers(0)
def test_compute_quota_is_the_run_time_limit_and_says_when_a_run_is_queued(hub, caller):
    hub.set_limits(caller.competition, run_time_limit_seconds=600)
    path = caller.project_path(3) + "/quota/compute"
    idle = caller.call("GET", path).json()

    caller.create_run(push(caller, GOOD)["id"])
    busy = caller.call("GET", path).json()

    assert idle == {"available": 600, "remaining": 600, "used": 0, "running": False}
    assert busy == {"available": 600, "remaining": 600, "used": 0, "running": True}


def test_compute_quota_counts_the_time_runs_took(caller):
    run = run_submission(caller, GOOD)

    quota = caller.call("GET", caller.project_path(3) + "/quota/compute").json()

    assert quota["used"] == pytest.approx(run["duration"])
    assert quota["running"] is False


@pytest.mark.hub_workers(0)
def test_runs_listed_without_a_page_are_a_plain_array_oldest_first(caller):
    submission = push(caller, GOOD)
    first, second = (caller.create_run(submission["id"]) for _ in range(2))
    path = caller.project_path(3) + "/runs"

    plain = caller.call("GET", path).json()
    paged = caller.call("GET", path, params={"size": 1}).json()

    assert [run["id"] for run in plain] == [first["id"], second["id"]]
    assert [run["id"] for run in paged["content"]] == [second["id"]]
    assert plain[0]["submission"] == submission


def test_nothing_is_selected_on_this_hub(caller):
    selection = caller.call("GET", caller.project_path(4) + "/selection").json()

    assert selection["origin"] == "BEST_RUN"
    assert (selection["runId"], selection["runnable"]) == (None, False)


def test_the_default_leaderboard_has_the_name_its_changes_are_read_by(caller):
    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")

    assert {key: board.json()[key] for key in ("name", "default")} == {
        "name": "default",
        "default": True,
    }


def test_a_project_without_a_scored_run_is_not_on_the_leaderboard(caller):
    push(caller, GOOD)

    changes = caller.call("GET", changes_path(caller), params={"projectIdentifier": "alpha"})

    assert changes.json() == {"submitted": True, "targets": []}


def test_a_scored_project_sees_its_rank_and_metric(caller, caller_for):
    run_submission(caller_for("bob", "beta"), GOOD)
    run = run_submission(caller, GOOD)

    changes = caller.call("GET", changes_path(caller), params={"projectIdentifier": "alpha"})

    [target] = changes.json()["targets"]
    assert target["rank"]["current"] == 1  # the same score as bob's: the same rank
    assert target["rank"]["unit"] == {"prefix": None, "scale": 0, "suffix": None}
    assert target["metrics"] == {
        run["metric"]: {
            "unit": {"prefix": None, "scale": 6, "suffix": None},
            "current": run["score"],
            "previous": None,
            "change": None,
            "changeDirection": None,
        }
    }


def test_leaderboard_changes_name_an_unknown_leaderboard_or_project(caller):
    board = caller.call(
        "GET",
        changes_path(caller).replace("/default/", "/other/"),
        params={"projectIdentifier": "alpha"},
    )
    project = caller.call("GET", changes_path(caller), params={"projectIdentifier": "nope"})

    assert (board.status_code, board.json()["code"]) == (404, "LEADERBOARD_NOT_FOUND")
    assert (project.status_code, project.json()["code"]) == (404, "PROJECT_NOT_FOUND")
