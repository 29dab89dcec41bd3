"""Runs on the hub: a pushed submission runs on the hidden data, is scored, and ranks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from sqlalchemy import select

import crunch_cli
from crunch_cli.hub.demo import NAMES
from crunch_cli.hub.models import Competition, Project, Run, Submission, utcnow
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.both_databases

if TYPE_CHECKING:
    from hubs import Caller

TEMPLATES = Path(crunch_cli.__file__).parent / "templates"
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
    assert created["submission"] == submission  # the whole submission, as crunch-cli 13 reads it
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
    # The built-in scoring's line, which the submission cannot forge: it runs in the hub.
    assert [line["emitter"] for line in failed] == ["runner"]
    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")
    assert board.json()["entries"] == []


@pytest.mark.parametrize("format_name", ["timeseries", "cross-sectional", "stream"])
def test_each_formats_quickstarter_runs_and_scores_on_the_hub(hub, caller_for, format_name):
    caller = caller_for("alice", "alpha", NAMES[format_name])
    template = TEMPLATES / format_name
    files = {path.name: path.read_bytes() for path in template.iterdir() if path.suffix != ".ipynb"}
    main = files.pop("main.py")

    run = run_submission(caller, main, **files)

    assert run["success"] is True, (run, user_lines(caller, run["id"])[-5:])
    assert isinstance(run["score"], float)
    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")
    assert board.json()["metric"] == run["metric"]
    assert board.json()["higherIsBetter"] == (run["metric"] not in ("rmse", "logloss"))


def predicting(column: bytes, sign: bytes = b"") -> bytes:
    return GOOD.replace(b'prediction=X_test["feature_00"]', b"prediction=" + sign + column)


def test_each_projects_best_run_counts_on_the_leaderboard(caller, caller_for):
    bob = caller_for("bob", "beta")
    worse = run_submission(caller, predicting(b'X_test["feature_00"]', b"-"))
    better = run_submission(caller, GOOD)
    middle = run_submission(bob, predicting(b'X_test["feature_01"]'))

    board = caller.call("GET", f"/v2/competitions/{caller.competition}/leaderboards/@default")

    assert worse["score"] < middle["score"] < better["score"]
    entries = board.json()["entries"]
    assert [(e["rank"], e["projectName"], e["submissionNumber"], e["runId"]) for e in entries] == [
        (1, "alpha", 2, better["id"]),
        (2, "beta", 1, middle["id"]),
    ]
    assert board.json()["higherIsBetter"] is True


def test_lower_is_better_metrics_rank_the_smallest_first_and_ties_share_a_rank(hub):
    # Scored runs written straight into the hub's database: three projects, one tie.
    for login in ("ann", "ben", "cat"):
        hub.mint_token("demo-stream", login, "p")
    with HubStore(hub.settings) as store, store.session() as session:
        projects = session.scalars(
            select(Project).join(Competition).where(Competition.name == "demo-stream")
        )
        by_login = {project.user.login: project for project in projects}
        now = utcnow()
        for login, score, minutes in (("ann", 0.5, 0), ("ben", 0.2, 2), ("cat", 0.2, 1)):
            submission = Submission(
                project=by_login[login],
                number=1,
                type="CODE",
                main_file_path="main.py",
                model_directory_path="resources",
                total_size=1,
            )
            session.add(
                Run(
                    project=by_login[login],
                    submission=submission,
                    status="COMPLETED",
                    success=True,
                    metric="rmse",
                    score=score,
                    started_at=now,
                    ended_at=now + timedelta(minutes=minutes),
                )
            )

    board = requests.get(f"{hub.url}/v2/competitions/demo-stream/leaderboards/@default").json()

    assert board["higherIsBetter"] is False
    assert [(e["rank"], e["userLogin"], e["score"]) for e in board["entries"]] == [
        (1, "cat", 0.2),  # listed first: scored first
        (1, "ben", 0.2),
        (3, "ann", 0.5),
    ]


def test_a_notebook_submission_runs_as_its_converted_script(caller):
    notebook = (TEMPLATES / "timeseries" / "main.ipynb").read_bytes()
    response = caller.submit({"main.ipynb": notebook}, mainFilePath="main.ipynb", type="NOTEBOOK")
    assert response.status_code == 200, response.text

    run = caller.wait_for_run(caller.create_run(response.json()["id"])["id"])

    assert run["success"] is True, (run, user_lines(caller, run["id"])[-5:])
    assert isinstance(run["score"], float)


TAMPERING = b"""\
import os
from pathlib import Path

import pandas

X_TEST = Path("/data/X_test.parquet")


def train(X_train, y_train, model_directory_path):
    try:
        os.chmod(X_TEST, 0o644)
        pandas.read_parquet(X_TEST).head(10).to_parquet(X_TEST)
    except OSError as error:
        print("tampering failed:", error)


def infer(X_test, model_directory_path):
    return X_test[["id"]].head(10).assign(prediction=1)
"""


def test_a_submission_cannot_shrink_the_test_set_it_is_checked_against(caller_for):
    caller = caller_for("alice", "alpha", NAMES["cross-sectional"])

    run = run_submission(caller, TAMPERING)

    assert (run["success"], run["exitReason"]) == (False, "checks")
    assert run["errorMessage"].startswith("the predictions failed 1 check(s); first: IDS")
    assert any(line.startswith("tampering failed:") for line in user_lines(caller, run["id"]))


# The bucket's version of this attack is tests/hub/test_s3_store.py's.
@pytest.mark.parametrize("hub_blob_store", ["folder"], indirect=True)
def test_a_submission_whose_stored_file_changed_on_disk_does_not_run(caller, hub):
    submission = push(caller, GOOD)
    with HubStore(hub.settings) as store, store.session(write=False) as session:
        (stored,) = (
            session.scalars(select(Submission).where(Submission.id == submission["id"])).one().files
        )
        path = store.blobs.path(stored.blob_key)
    path.chmod(0o644)
    path.write_bytes(GOOD.replace(b"training on", b"tampered with"))

    run = caller.wait_for_run(caller.create_run(submission["id"])["id"])

    assert (run["success"], run["exitReason"]) == (False, "error")
    assert "the hub's stored file" in run["errorMessage"]
    assert "tampered with" not in " ".join(user_lines(caller, run["id"]))
