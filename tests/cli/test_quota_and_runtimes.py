"""`crunch quota` and `crunch runtime list`, crunch-cli 13's commands, against a real hub."""

from __future__ import annotations

import json

MAIN = """
def train(X_train, y_train, model_directory_path):
    pass

def infer(X_test):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def test_quota_shows_what_the_project_may_still_send_and_run(workspace, crunch, hub):
    hub.set_limits("demo-timeseries", submissions_per_day=3)
    (workspace / "main.py").write_text(MAIN)
    (workspace / "requirements.txt").write_text("pandas\n")
    assert crunch("push", "-m", "one").exit_code == 0

    result = crunch("quota")
    as_json = json.loads(crunch("quota", "--json").stdout)

    assert result.exit_code == 0, result.output
    assert "submissions today   1/3 (2 left; resets at midnight UTC)" in result.stdout
    assert "no run is running" in result.stdout
    assert as_json["submit"]["submissionsPerDay"] == {"current": 1, "maximum": 3, "bypass": False}
    assert set(as_json["compute"]) >= {"available", "remaining", "used", "running"}


def test_runtime_list_shows_the_cpu_runtime_before_and_after_a_push(workspace, crunch):
    before = crunch("runtime", "list")
    (workspace / "main.py").write_text(MAIN)
    (workspace / "requirements.txt").write_text("pandas\n")
    assert crunch("push", "-m", "one").exit_code == 0
    after = json.loads(crunch("runtime", "list", "--json").stdout)

    assert before.exit_code == 0, before.output
    assert "cpu" in before.stdout and "none" in before.stdout
    assert [(option["definition"]["name"], option["status"]) for option in after] == [
        ("cpu", "AVAILABLE")
    ]
