"""`crunch test` on a cross-sectional competition: one train, one infer, validated output."""

from __future__ import annotations

import pandas as pd

MAIN = """
    import os

    def train(X_train, y_train, model_directory_path):
        print("training on", len(X_train), "rows")
        with open(os.path.join(model_directory_path, "model.txt"), "w") as file:
            file.write("ok")

    def infer(X_test, has_trained):
        print("inferring", len(X_test), "rows, trained:", has_trained)
        score = X_test["feature_00"] - X_test["feature_01"]
        return X_test[["id"]].assign(prediction=(score > 0).astype(int))
"""


def test_cross_sectional_trains_once_then_infers_and_scores_accuracy(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", MAIN)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "training on 3000 rows" in result.stdout
    assert "inferring 1000 rows, trained: True" in result.stdout
    assert "local score (accuracy)" in result.stdout
    prediction = pd.read_parquet(workspace.root / "prediction" / "prediction.parquet")
    assert list(prediction.columns) == ["id", "prediction"]
    assert len(prediction) == 1000


def test_cross_sectional_reuses_a_saved_model_unless_forced(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", MAIN)
    workspace.write("resources/model.txt", "saved")

    reused = crunch("test")
    forced = crunch("test", "--force-train")

    assert reused.exit_code == 0, reused.output
    assert "training on" not in reused.stdout
    assert "trained: False" in reused.stdout
    assert forced.exit_code == 0, forced.output
    assert "training on 3000 rows" in forced.stdout


def test_infer_must_return_a_dataframe(make_workspace, crunch):
    make_workspace(
        "cross-sectional",
        """
        def train():
            pass

        def infer(X_test):
            return list(X_test["id"])
        """,
    )

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: infer() must return a pandas DataFrame, not list" in result.stderr


def test_a_main_file_without_infer_is_named_in_the_error(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", "def train():\n    pass\n")

    result = crunch("test")

    assert result.exit_code == 1
    assert f"error: {workspace.root / 'main.py'} defines no infer() function" in result.stderr
    assert result.stderr.count("defines no infer()") == 1


def test_user_atexit_handlers_and_unfinished_lines_still_reach_the_log(make_workspace, crunch):
    workspace = make_workspace(
        "cross-sectional",
        """
        import atexit
        import sys

        atexit.register(lambda: print("saved the cache on exit"))

        def train():
            pass

        def infer(X_test):
            sys.stdout.write("no newline at the end")
            return X_test[["id"]].assign(prediction=1)
        """,
    )

    result = crunch("test", "--no-checks")

    assert result.exit_code == 0, result.output
    assert "saved the cache on exit" in result.stdout
    log = (workspace.root / "prediction" / "log.txt").read_text()
    assert "no newline at the end" in log
    assert "saved the cache on exit" in log
