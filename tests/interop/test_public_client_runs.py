"""The public `crunch-cli` against our hub, past the push: every command a competitor runs
on a workspace, from `setup` to `run wait` and `leaderboard`, exits 0 without a traceback.

One workspace, one push and one run serve every command: the commands run in order in a
single test, as a competitor would type them, and each one checks what it printed.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from test_public_client import COMPETITION, set_up

pytestmark = pytest.mark.slow

SCORED_MAIN = """\
def train(X_train, y_train, model_directory_path):
    print("training on", len(X_train), "rows")


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def clean(done: subprocess.CompletedProcess[str]) -> str:
    """What the command printed, once it is known to have printed no traceback."""
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.stdout


def test_public_client_runs_every_command_on_one_workspace(public_crunch, hub, tmp_path):
    workspace = set_up(public_crunch, hub, tmp_path)
    assert (workspace / "data" / "X_train.parquet").is_file()

    def ok(*args: str) -> str:
        return clean(public_crunch.ok(*args, cwd=workspace))

    (workspace / "data" / "y_train.parquet").unlink()
    ok("download")
    assert (workspace / "data" / "y_train.parquet").is_file()

    (workspace / "main.py").write_text(SCORED_MAIN)
    (workspace / "requirements.txt").write_text("pandas\n")
    assert "submission #1 succesfully uploaded!" in ok("push", "-m", "scored")

    assert re.search(r"^\s+1\s+'scored'", ok("submission", "list"), re.MULTILINE)
    assert "main.py" in ok("submission", "show", "1")

    runtimes = ok("runtime", "list")
    assert re.search(r"^\s+cpu\s+CPU\s+8 GB\s+\d+ cores\s+\(none\)\s+AVAILABLE", runtimes, re.M)

    created = ok("run", "create", "--runtime", "cpu")
    [run_id] = re.findall(r"^run: created: (\d+)$", created, re.MULTILINE)

    waited = ok("run", "wait", run_id, "--poll-interval", "1")
    assert "wait: run status: SUCCEEDED (completed successfully)" in waited

    listed = ok("run", "list")
    assert re.search(rf"^\s+{run_id}\s+completed successfully\s+1\s", listed, re.MULTILINE)
    shown = ok("run", "show", run_id)
    assert "status: completed successfully" in shown
    assert "message: 'scored'" in shown
    assert "training on" in ok("run", "logs", run_id)

    board = ok("leaderboard")
    assert "rank: 1" in board
    assert re.search(r"metric: '\w+': -?\d", board)

    quota = ok("quota")
    assert "submissions per day: 1/" in quota
    assert "available: 1:00:00" in quota
    assert "running: no run is currently running" in quota

    status = ok("status")
    assert f"name: {COMPETITION}" in status
    assert "name: alpha" in status

    assert re.search(r"^\s+pandas\s", ok("whitelist", "search", "pandas"), re.MULTILINE)
