"""Runs on the hub: a pushed submission runs on the hidden data, is scored, and ranks."""

from __future__ import annotations

from conftest import Caller

GOOD = b"""\
def train(X_train, y_train, model_directory_path):
    print("training on", len(X_train), "rows")


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


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
