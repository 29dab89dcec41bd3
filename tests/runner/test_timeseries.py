"""`crunch test` on a timeseries competition: the moon walk, its schedule and its outputs."""

from __future__ import annotations

import re

import pandas as pd

RECORDING_MAIN = """
    import json, os

    def _record(event):
        with open("calls.jsonl", "a") as file:
            file.write(json.dumps(event) + "\\n")

    def train(X_train, y_train, model_directory_path, moon, embargo, has_trained):
        _record({"call": "train", "moon": int(moon), "rows": len(X_train),
                 "y_rows": len(y_train), "last_moon": int(X_train["moon"].max()),
                 "embargo": embargo, "has_trained": has_trained})
        with open(os.path.join(model_directory_path, "model.txt"), "w") as file:
            file.write(str(moon))

    def infer(X_test, moon, current_moon, has_trained, id_column_name, prediction_column_name):
        _record({"call": "infer", "moon": int(moon), "moons": sorted(set(X_test["moon"])),
                 "has_trained": has_trained})
        prediction = X_test[[id_column_name, "moon"]].copy()
        prediction[prediction_column_name] = X_test["feature_00"] - X_test["feature_02"]
        return prediction
"""


def calls(workspace) -> list[dict]:
    lines = (workspace.root / "calls.jsonl").read_text().splitlines()
    import json

    return [json.loads(line) for line in lines]


def test_timeseries_trains_on_the_past_and_infers_one_moon_at_a_time(make_workspace, crunch):
    workspace = make_workspace("timeseries", RECORDING_MAIN)

    # Without the determinism check, which calls infer() twice more on a sample.
    result = crunch("test", "--train-frequency", "5", "--no-determinism-check")

    assert result.exit_code == 0, result.output
    recorded = calls(workspace)
    infers = [call for call in recorded if call["call"] == "infer"]
    trains = [call for call in recorded if call["call"] == "train"]
    test_moons = list(range(60, 80))
    assert [call["moon"] for call in infers] == test_moons
    assert all(call["moons"] == [call["moon"]] for call in infers)
    # From moon 62 on, the embargoed past is every training moon: 70 and 75 would train
    # on the same rows as 65, and are left out.
    assert [call["moon"] for call in trains] == [60, 65]
    for call in trains:
        assert call["embargo"] == 2
        assert call["last_moon"] == min(call["moon"] - 3, 59)
        assert call["rows"] == call["y_rows"]
        assert call["has_trained"] is True
    assert [call["has_trained"] for call in infers[:2]] == [True, False]
    assert [call["moon"] for call in infers if call["has_trained"]] == [60, 65]
    prediction = pd.read_parquet(workspace.root / "prediction" / "prediction.parquet")
    assert sorted(prediction.columns) == ["id", "moon", "prediction"]
    assert len(prediction) == 20 * 50
    assert "local score (spearman)" in result.stdout
    log = (workspace.root / "prediction" / "log.txt").read_text()
    assert "network: blocked" in log


def test_timeseries_with_a_saved_model_and_no_forced_first_train_never_trains(
    make_workspace, crunch
):
    workspace = make_workspace("timeseries", RECORDING_MAIN)
    workspace.write("resources/model.txt", "saved")

    result = crunch("test", "--train-frequency", "0", "--no-force-first-train")

    assert result.exit_code == 0, result.output
    assert [call["call"] for call in calls(workspace)].count("train") == 0


def test_timeseries_trains_on_the_first_moon_when_the_model_directory_is_empty(
    make_workspace, crunch
):
    workspace = make_workspace("timeseries", RECORDING_MAIN)

    result = crunch("test", "--train-frequency", "0", "--no-force-first-train")

    assert result.exit_code == 0, result.output
    trains = [call for call in calls(workspace) if call["call"] == "train"]
    assert [call["moon"] for call in trains] == [60]
    assert (workspace.root / "resources" / "model.txt").read_text() == "60"


def test_timeseries_summary_counts_calls_per_phase(make_workspace, crunch):
    make_workspace("timeseries", RECORDING_MAIN)

    result = crunch("test", "--train-frequency", "10")

    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert rows["train()"].split("│")[2].strip() == "2"
    assert rows["infer()"].split("│")[2].strip() == "20"
    assert "peak memory" in result.stdout


def test_a_user_whose_training_data_stops_changing_sees_train_skipped_once_in_the_summary(
    make_workspace, crunch
):
    workspace = make_workspace("timeseries", RECORDING_MAIN)

    result = crunch("test", "--no-determinism-check")

    assert result.exit_code == 0, result.output
    trains = [call for call in calls(workspace) if call["call"] == "train"]
    # Moons 60, 61 and 62 each see one more training moon; after that, all of them.
    assert [call["moon"] for call in trains] == [60, 61, 62]
    assert len({call["rows"] for call in trains}) == 3
    assert result.stdout.count("skipped") == 1
    assert re.search(r"^train\(\)\s+skipped 17 times: same data as before", result.stdout, re.M)
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert rows["train()"].split("│")[2].strip() == "3"


def test_force_train_trains_on_every_moon_even_on_the_same_data(make_workspace, crunch):
    workspace = make_workspace("timeseries", RECORDING_MAIN)

    result = crunch("test", "--force-train", "--no-determinism-check")

    assert result.exit_code == 0, result.output
    trains = [call for call in calls(workspace) if call["call"] == "train"]
    assert [call["moon"] for call in trains] == list(range(60, 80))
    assert "skipped" not in result.stdout


def test_a_run_whose_training_data_changes_on_every_train_skips_nothing(make_workspace, crunch):
    make_workspace("timeseries", RECORDING_MAIN)

    result = crunch("test", "--train-frequency", "10", "--no-determinism-check")

    assert result.exit_code == 0, result.output
    assert "skipped" not in result.stdout
