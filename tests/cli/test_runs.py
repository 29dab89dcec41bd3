"""`crunch run ...`, `push --wait`, `leaderboard`, `status` against a real hub that runs code."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import crunch_cli

TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"
CRASHING = """\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    raise ValueError("no model yet")
"""


def write_quickstarter(workspace: Path) -> None:
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)


def test_push_wait_runs_on_the_hub_and_prints_score_and_rank(workspace, crunch):
    write_quickstarter(workspace)

    result = crunch("push", "-m", "baseline", "--wait")

    assert result.exit_code == 0, result.output
    assert "Submission #1 created" in result.stdout
    assert re.search(r"^run 1 succeeded: spearman 0\.\d{4}$", result.stdout, re.MULTILINE)
    assert "rank 1 of 1 on the leaderboard" in result.stdout


def test_run_commands_follow_a_run_from_creation_to_its_score(workspace, crunch):
    write_quickstarter(workspace)
    assert crunch("push", "-m", "baseline").exit_code == 0

    created = json.loads(crunch("run", "create", "--json").stdout)
    waited = crunch("run", "wait", str(created["id"]), "--timeout", "60")
    shown = json.loads(crunch("run", "show", str(created["id"]), "--json").stdout)
    listed = json.loads(crunch("run", "list", "--json").stdout)
    logs = crunch("run", "logs", str(created["id"]))
    tail = crunch("run", "logs", str(created["id"]), "-t", "2", "--debug")
    board = json.loads(crunch("leaderboard", "--json").stdout)

    assert created["submission"]["number"] == 1
    assert waited.exit_code == 0, waited.output
    assert shown["status"] == "COMPLETED" and shown["success"] is True
    assert [run["id"] for run in listed] == [created["id"]]
    assert "network: blocked" in logs.output
    assert len(tail.output.splitlines()) == 2
    assert all(re.match(r"\S+ \[\w+,std(out|err)\] ", line) for line in tail.output.splitlines())
    [entry] = board["entries"]
    assert (entry["rank"], entry["projectName"], entry["runId"]) == (1, "alpha", created["id"])
    assert entry["score"] == shown["score"]


def test_a_failed_run_exits_1_and_shows_the_user_traceback(workspace, crunch):
    (workspace / "main.py").write_text(CRASHING)
    (workspace / "requirements.txt").write_text("pandas\n")

    result = crunch("push", "--wait")

    assert result.exit_code == 1
    assert "ValueError: no model yet" in result.output
    assert "error: run 1 failed: error" in result.stderr
    assert "hint: fix the error shown above" in result.stderr


def test_run_wait_exits_2_when_its_timeout_passes(workspace, crunch):
    (workspace / "main.py").write_text(
        CRASHING.replace('raise ValueError("no model yet")', "import time; time.sleep(30)")
    )
    (workspace / "requirements.txt").write_text("pandas\n")
    assert crunch("push").exit_code == 0
    created = json.loads(crunch("run", "create", "--json").stdout)

    result = crunch("run", "wait", str(created["id"]), "--timeout", "1")
    stopped = crunch("run", "terminate", str(created["id"]))

    assert result.exit_code == 2
    assert f"error: run {created['id']} is still " in result.stderr
    assert stopped.exit_code == 0, stopped.output
    assert stopped.stdout == f"Run {created['id']} terminated\n"
    ended = crunch("run", "wait", str(created["id"]), "--timeout", "30", "--poll-interval", "0.2")
    again = crunch("run", "terminate", str(created["id"]))
    assert ended.exit_code == 3
    assert f"error: run {created['id']} was terminated" in ended.stderr
    assert again.stdout == f"Run {created['id']} was already over: terminated\n"


def test_status_shows_limits_and_the_submissions_left_today(workspace, crunch, hub):
    hub.set_limits("demo-timeseries", submissions_per_day=3)
    write_quickstarter(workspace)
    assert crunch("push").exit_code == 0

    text = crunch("status")
    data = json.loads(crunch("status", "--json").stdout)

    assert text.exit_code == 0, text.output
    assert "competition  demo-timeseries (TIMESERIES)" in text.stdout
    assert "submissions  1 today, 2 left" in text.stdout
    assert data["quota"]["submissionsPerDay"] == {"current": 1, "maximum": 3, "bypass": False}


def test_an_unknown_run_is_a_clear_error(workspace, crunch):
    result = crunch("run", "show", "999")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "hint: run `crunch run list` to see your runs"


def test_run_create_takes_force_first_train_as_a_flag_or_a_value(workspace, crunch, hub):
    write_quickstarter(workspace)
    assert crunch("push").exit_code == 0

    bare = crunch("run", "create", "--force-first-train", "--json")
    valued = crunch("run", "create", "--force-first-train", "false", "--json")
    negated = crunch("run", "create", "--no-force-first-train", "--json")
    wrong = crunch("run", "create", "--force-first-train", "maybe")

    from crunch_cli.hub.models import Run
    from crunch_cli.hub.store import HubStore

    ids = [json.loads(r.stdout)["id"] for r in (bare, valued, negated)]
    with HubStore(hub.settings) as store, store.session() as session:
        assert [session.get(Run, i).force_first_train for i in ids] == [True, False, False]
    assert wrong.exit_code == 2 and "(maybe)" in wrong.stderr


def test_run_and_submission_lists_show_ten_unless_told(workspace, crunch):
    write_quickstarter(workspace)
    for _ in range(3):
        assert crunch("push").exit_code == 0

    limited = crunch("submission", "list", "--limit", "2", "--json")
    everything = crunch("submission", "list", "--limit", "2", "--all", "--json")

    assert [s["number"] for s in json.loads(limited.stdout)] == [3, 2]
    assert "showing 2 of 3 submissions; --limit N or --all shows more" in limited.stderr
    assert len(json.loads(everything.stdout)) == 3
