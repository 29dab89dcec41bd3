"""What `crunch test` says when the code, the limits or the workspace get in the way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from textwrap import dedent

import pandas as pd
import psutil
import pytest

CROSS_SECTIONAL_INFER = """
def infer(X_test):
    return X_test[["id"]].assign(prediction=(X_test["feature_00"] > 0).astype(int))
"""


def test_user_exception_shows_their_traceback_without_runner_frames(make_workspace, crunch):
    workspace = make_workspace(
        "cross-sectional",
        """
        def helper(value):
            return value / 0

        def train():
            pass

        def infer(X_test):
            return helper(len(X_test))
        """,
    )

    result = crunch("test")

    assert result.exit_code == 1
    main = workspace.root / "main.py"
    assert result.stderr.count("Traceback (most recent call last):") == 1
    assert f'File "{main}", line 9, in infer' in result.stderr
    assert f'File "{main}", line 3, in helper' in result.stderr
    assert "ZeroDivisionError: division by zero" in result.stderr
    assert "crunch_cli" not in result.stderr.split("Traceback")[1].split("error:")[0]
    assert "error: infer() raised ZeroDivisionError: division by zero" in result.stderr
    assert "hint: fix the error shown above" in result.stderr


def test_a_failing_infer_is_told_once_its_traceback_then_one_error_line(make_workspace, crunch):
    workspace = make_workspace(
        "cross-sectional",
        """
        def train():
            pass

        def infer(X_test):
            return 1 / 0
        """,
    )

    result = crunch("test")

    assert result.exit_code == 1
    error = "error: infer() raised ZeroDivisionError: division by zero"
    lines = result.stderr.splitlines()
    assert result.output.count("Traceback (most recent call last):") == 1
    assert result.output.count("division by zero") == 2  # the traceback's last line, the error
    assert [line for line in lines if line.startswith("error:")] == [error]
    assert lines[-2:] == [error, "hint: fix the error shown above, then run `crunch test` again"]
    log = (workspace.root / "prediction" / "log.txt").read_text().splitlines()
    assert log[-1] == error


def test_a_competition_runner_that_breaks_a_rule_is_told_once(make_workspace, crunch):
    import hashlib
    import json

    runner = (
        "def run(context):\n"
        "    context.execute(command='fit')\n\n"
        "def execute():\n"
        "    return {'train': print}\n"
    )
    workspace = make_workspace("cross-sectional", "def train():\n    pass\n")
    workspace.write(".crunchdao/modules/runner.py", runner)
    cache = workspace.cache()
    cache["competition"]["format"] = "UNSTRUCTURED"
    cache["modules"] = {"runner": hashlib.sha256(runner.encode()).hexdigest()}
    workspace.cache_path.write_text(json.dumps(cache))

    result = crunch("test")

    assert result.exit_code == 1
    assert result.output.count("has no command 'fit'") == 1, result.output
    assert "error: runner.py's execute() has no command 'fit' (it has: train)" in result.stderr
    # The sandbox is described once, not once per process of the run.
    assert result.output.count("network: blocked") == 1


def test_syntax_error_in_main_file_points_at_the_line(make_workspace, crunch):
    make_workspace("cross-sectional", "def train(:\n    pass\n")

    result = crunch("test")

    assert result.exit_code == 1
    assert 'main.py", line 1' in result.stderr
    assert "error: importing main.py raised SyntaxError" in result.stderr


@pytest.mark.slow
def test_timeout_stops_a_slow_infer(make_workspace, crunch):
    # --timeout bounds every phase, loading the data (importing pandas: about a second on a
    # busy machine) included: 10 s is a limit only the sleeping infer() can reach.
    make_workspace(
        "timeseries",
        """
        import time

        def train():
            pass

        def infer(X_test):
            time.sleep(600)
        """,
    )

    started = time.monotonic()
    result = crunch("test", "--timeout", "10")

    assert result.exit_code == 1
    assert time.monotonic() - started < 300  # stopped, not left to sleep its 600 s
    assert "error: infer() (moon 60) ran past the 10 s timeout" in result.stderr
    assert "hint: make the code lighter, or raise the limit with --timeout" in result.stderr


def test_memory_limit_stops_a_greedy_train(make_workspace, crunch):
    make_workspace(
        "cross-sectional",
        dedent(
            """
        import time

        def train():
            hog = b"x" * (600 << 20)
            time.sleep(30)
        """
        )
        + CROSS_SECTIONAL_INFER,
    )

    result = crunch("test", "--memory-limit", "400")

    assert result.exit_code == 1
    assert "error: train() used " in result.stderr
    assert "past the memory limit of 400 MiB" in result.stderr
    assert "hint: make the code lighter, or raise the limit with --memory-limit" in result.stderr


def test_the_competition_time_limit_bounds_the_whole_run(make_workspace, crunch):
    workspace = make_workspace(
        "timeseries",
        """
        import time

        def train():
            pass

        def infer(X_test):
            time.sleep(0.5)
            return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
        """,
    )
    cache = workspace.cache()
    cache["competition"]["limits"]["runTimeLimitSeconds"] = 2
    workspace.cache_path.write_text(__import__("json").dumps(cache))

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: the run went past its 2 s time limit" in result.stderr


def test_missing_data_file_asks_for_a_download(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", "def train(): pass\n" + CROSS_SECTIONAL_INFER)
    (workspace.root / "data" / "X_test.parquet").unlink()

    result = crunch("test")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: data/X_test.parquet is missing\nhint: run `crunch download` to fetch the data\n"
    )


def test_a_model_directory_that_is_a_file_is_refused(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", "def train(): pass\n" + CROSS_SECTIONAL_INFER)
    (workspace.root / "weights").write_text("not a folder")

    result = crunch("test", "--model-directory", "weights")

    assert result.exit_code == 1
    assert f"error: the model directory {workspace.root / 'weights'} is a file" in result.stderr
    assert (workspace.root / "weights").read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission")
def test_an_unwritable_model_directory_is_refused(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", "def train(): pass\n" + CROSS_SECTIONAL_INFER)
    (workspace.root / "resources").chmod(0o500)

    result = crunch("test")

    assert result.exit_code == 1
    assert "is not writable, so train() could not save a model" in result.stderr


def test_an_empty_model_directory_is_created_and_trained_into(make_workspace, crunch):
    workspace = make_workspace(
        "cross-sectional",
        dedent(
            """
        import os

        def train(model_directory_path):
            open(os.path.join(model_directory_path, "model.bin"), "w").close()
        """
        )
        + CROSS_SECTIONAL_INFER,
    )

    result = crunch("test", "--model-directory", "models/new")

    assert result.exit_code == 0, result.output
    assert (workspace.root / "models" / "new" / "model.bin").is_file()


def test_no_code_at_all_says_what_to_write(make_workspace, crunch):
    workspace = make_workspace("cross-sectional")

    result = crunch("test")

    assert result.exit_code == 1
    assert f"error: no main.py or main.ipynb in {workspace.root}" in result.stderr


def test_outside_a_workspace_crunch_test_says_where_to_go(crunch, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = crunch("test")

    assert result.exit_code == 1
    assert "is not inside a crunch workspace" in result.stderr


def test_failed_checks_keep_the_previous_predictions_and_list_offending_rows(
    make_workspace, crunch
):
    workspace = make_workspace(
        "cross-sectional",
        """
        def train():
            pass

        def infer(X_test):
            prediction = X_test[["id"]].assign(prediction=1)
            prediction.loc[:2, "prediction"] = 7
            return prediction.iloc[5:]
        """,
    )
    previous = workspace.write("prediction/prediction.parquet", "previous")

    result = crunch("test")

    assert result.exit_code == 1
    assert "check failed: IDS: 5 ids of X_test have no prediction (ids 'row_03000'" in (
        result.stderr
    )
    # Each failed check once, then one error line that counts them.
    assert result.stderr.count("ids of X_test have no prediction") == 1
    assert "error: the predictions failed 1 check\n" in result.stderr
    assert previous.read_text() == "previous"
    assert "network: blocked" in (workspace.root / "prediction" / "log.txt").read_text()

    unchecked = crunch("test", "--no-checks")

    assert unchecked.exit_code == 0, unchecked.output
    assert len(pd.read_parquet(previous)) == 995


def test_determinism_check_catches_unseeded_randomness(make_workspace, crunch):
    make_workspace(
        "cross-sectional",
        """
        import random

        def train():
            pass

        def infer(X_test):
            return X_test[["id"]].assign(prediction=[random.randint(0, 1) for _ in X_test["id"]])
        """,
    )

    result = crunch("test", "--determinism-check")

    assert result.exit_code == 1
    assert (
        "error: infer() is not deterministic: two infer() calls on the same rows gave "
        "different 'prediction' values"
    ) in result.stderr


def test_determinism_check_passes_deterministic_code(make_workspace, crunch):
    make_workspace("cross-sectional", "def train(): pass\n" + CROSS_SECTIONAL_INFER)

    result = crunch("test", "--determinism-check")

    assert result.exit_code == 0, result.output
    assert "deterministic" in result.stdout
    assert "infer() again (determinism)" in result.stdout


def test_ctrl_c_stops_the_child_and_exits_130(make_workspace):
    workspace = make_workspace(
        "cross-sectional",
        dedent(
            """
        import subprocess, time

        def train():
            subprocess.Popen(["sleep", "611.25"])
            with open("child.pid", "w") as file:
                file.write("started")
            time.sleep(60)
        """
        )
        + CROSS_SECTIONAL_INFER,
    )
    crunch = Path(sys.executable).with_name("crunch")
    process = subprocess.Popen(
        [str(crunch), "test"], cwd=workspace.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    pid_file = workspace.root / "child.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the child never started"
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)

    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)

    assert process.returncode == 130
    assert stderr.decode().strip().endswith("interrupted")
    assert not _running("611.25")


def _running(argument: str) -> bool:
    """Whether any process on the machine has this argument (the sandbox hides pids)."""
    for process in psutil.process_iter(["cmdline"]):
        if argument in (process.info["cmdline"] or []):
            return True
    return False
