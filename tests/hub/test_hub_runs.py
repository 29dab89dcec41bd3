"""Runs on the hub: a pushed submission runs on the hidden data, is scored, and ranks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Caller

GOOD = b"""\
def train(X_train, y_train, model_directory_path):
    print("training on", len(X_train), "rows")


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def training_does(statement: bytes) -> bytes:
    """The good submission, with `statement` run first thing in train()."""
    return GOOD.replace(b"    print(", b"    " + statement + b"\n    print(", 1)


def push(caller: Caller, main: bytes, **files: bytes) -> dict:
    response = caller.submit({"main.py": main, **files})
    assert response.status_code == 200, response.text
    return response.json()


def run_submission(caller: Caller, main: bytes, **files: bytes) -> dict:
    submission = push(caller, main, **files)
    created = caller.create_run(submission["id"])
    assert created["status"] == "CREATED"
    assert created["submission"] == {"id": submission["id"], "number": submission["number"]}
    return caller.wait_for_run(created["id"])


def test_good_submission_runs_scores_and_appears_on_the_leaderboard(caller):
    run = run_submission(caller, GOOD)

    assert run["success"] is True, run
    assert run["exitReason"] is None
    assert run["metric"] == "spearman"
    assert 0.1 < run["score"] < 0.6  # feature_00 drives the target
    assert run["duration"] > 0
    lines = caller.run_logs(run["id"])
    assert {"emitter": "user", "error": False, "content": "training on 3000 rows"}.items() <= {
        **lines[[line["content"] for line in lines].index("training on 3000 rows")]
    }.items()
    assert any(line["emitter"] == "hub" and line["content"].startswith("score:") for line in lines)
    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")
    assert board.status_code == 200
    (entry,) = board.json()["entries"]
    assert entry["rank"] == 1
    assert entry["projectName"] == "alpha"
    assert entry["userLogin"] == "alice"
    assert entry["score"] == run["score"]
    assert entry["runId"] == run["id"]
    assert entry["submissionNumber"] == 1


def user_lines(caller: Caller, run_id: int) -> list[str]:
    return [line["content"] for line in caller.run_logs(run_id) if line["emitter"] == "user"]


def test_a_crashing_submission_fails_with_its_traceback_in_the_logs(caller):
    crashing = training_does(b"print(1 / 0)")

    run = run_submission(caller, crashing)

    assert run["success"] is False
    assert run["exitReason"] == "error"
    assert run["exitCode"] == 1
    assert run["errorMessage"] == "train() raised ZeroDivisionError: division by zero"
    assert run["score"] is None
    errors = [line for line in caller.run_logs(run["id"]) if line["error"]]
    assert any(line["content"].startswith("Traceback") for line in errors)
    assert "print(1 / 0)" in [line["content"].strip() for line in errors]
    assert errors[-1]["emitter"] == "hub"


def test_a_submission_sleeping_past_the_time_limit_is_stopped(hub, caller):
    hub.set_limits(caller.competition, run_time_limit_seconds=1)
    sleeping = training_does(b'__import__("time").sleep(30)')

    run = run_submission(caller, sleeping)

    assert run["success"] is False
    assert run["exitReason"] == "timeout"
    assert run["errorMessage"] == "the run went past its 1 s time limit"
    assert run["duration"] < 10


def test_a_submission_allocating_past_the_memory_limit_is_stopped(hub, caller):
    hub.set_limits(caller.competition, run_memory_limit_mb=400)
    greedy = training_does(b'hog = b"x" * (2 << 30); __import__("time").sleep(5)')

    run = run_submission(caller, greedy)

    assert run["success"] is False
    assert run["exitReason"] == "memory"
    assert "past the memory limit of 400 MiB" in run["errorMessage"]


def test_a_submission_cannot_reach_the_network(caller):
    calling = training_does(b'__import__("socket").create_connection(("1.1.1.1", 80), timeout=5)')

    run = run_submission(caller, calling)

    assert run["success"] is False
    assert run["exitReason"] == "error"
    assert run["errorMessage"].startswith("train() raised ")
    logs = caller.run_logs(run["id"])
    assert any(
        line["emitter"] == "runner" and line["content"].startswith("network: blocked")
        for line in logs
    )
    last_user_error = [line["content"] for line in logs if line["emitter"] == "user"][-1]
    assert last_user_error.startswith(("OSError: [Errno 101]", "crunch_cli.runner.network."))


def test_predictions_failing_a_check_fail_the_run_with_the_check_in_the_logs(caller):
    constant = GOOD.replace(b'assign(prediction=X_test["feature_00"])', b"assign(prediction=0.5)")

    run = run_submission(caller, constant)

    assert run["success"] is False
    assert run["exitReason"] == "checks"
    assert run["errorMessage"].startswith("the predictions failed 1 check(s); first: CONSTANTS")
    assert run["score"] is None
    failed = [line for line in caller.run_logs(run["id"]) if line["content"].startswith("check")]
    assert [line["emitter"] for line in failed] == ["hub"]
    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")
    assert board.json()["entries"] == []
