"""The runner as a library, the way the hub calls it: a folder of code and data, no workspace."""

from __future__ import annotations

import shutil
import textwrap
import threading
import time

import pandas as pd

from crunch_cli.runner import ColumnNames, DataFiles, Format, RunSpec, run
from crunch_cli.runner.checks import Check, run_checks

CODE = """
import time

def train(X_train):
    print("training", flush=True)

def infer(X_test, id_column_name):
    import sys
    print("to stderr", file=sys.stderr)
    time.sleep(float(open("delay.txt").read()))
    return X_test[[id_column_name]].assign(prediction=1)
"""


def submission(tmp_path, workspace_templates, delay: float) -> RunSpec:
    folder = tmp_path / "submission"
    (folder / "resources").mkdir(parents=True)
    (folder / "main.py").write_text(textwrap.dedent(CODE))
    (folder / "delay.txt").write_text(str(delay))
    data = tmp_path / "hidden"
    shutil.copytree(workspace_templates["cross-sectional"] / "data", data)
    return RunSpec(
        main_file=folder / "main.py",
        model_dir=folder / "resources",
        data=DataFiles(data / "X_train.parquet", data / "y_train.parquet", data / "X_test.parquet"),
        format=Format.CROSS_SECTIONAL,
        prediction_path=tmp_path / "prediction.parquet",
        columns=ColumnNames(moon=None),
    )


def test_run_streams_each_line_with_its_source_and_leaves_judging_to_the_caller(
    tmp_path, workspace_templates
):
    spec = submission(tmp_path, workspace_templates, delay=0)
    lines: list[tuple[str, str]] = []

    result = run(spec, lambda source, line: lines.append((source, line)))

    assert result.ok, result.error
    assert ("stdout", "training") in lines
    assert ("stderr", "to stderr") in lines
    runner_lines = [line for source, line in lines if source == "runner"]
    assert any(line.startswith("network: blocked") for line in runner_lines), runner_lines
    assert result.failures == [] and result.score is None
    prediction = pd.read_parquet(result.predictions_path)
    expected = pd.read_parquet(spec.data.x_test, columns=["id"])
    assert run_checks(prediction, expected, spec.columns, [Check("IDS"), Check("NANS")]) == []
    assert result.phases["train"].calls == 1 and result.phases["infer"].calls == 1


def test_setting_stop_terminates_the_run(tmp_path, workspace_templates):
    spec = submission(tmp_path, workspace_templates, delay=60)
    stop = threading.Event()
    started = time.monotonic()
    threading.Timer(1.0, stop.set).start()

    result = run(spec, stop=stop)

    assert result.exit_reason == "terminated"
    assert result.error == "the run was stopped"
    assert result.predictions_path is None
    assert time.monotonic() - started < 20
