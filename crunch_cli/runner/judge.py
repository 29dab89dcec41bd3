"""Checks and score of a run's predictions, against X_test's keys and y_test.

The child judges its own predictions for `crunch test` (see `spec.Judging`); the hub
judges the predictions file of its runs with its own copies of the test files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from crunch_cli.errors import RunnerError
from crunch_cli.runner.checks import CheckFailure, run_checks
from crunch_cli.runner.spec import ColumnNames, Judging, Score

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Reference:
    """What predictions are judged against: X_test's key columns (None when the checks
    are skipped) and the targets (None without y_test). Read apart from the judging, so
    the child can read it while the user's code runs."""

    expected: pd.DataFrame | None
    truth: pd.DataFrame | None

    @classmethod
    def read(cls, x_test: Path, judging: Judging, columns: ColumnNames) -> Reference:
        import pandas as pd

        expected = None
        if judging.checks is not None:
            expected = pd.read_parquet(x_test, columns=columns.keys)
        truth = None if judging.y_test is None else pd.read_parquet(judging.y_test)
        return cls(expected, truth)


def judge(
    predictions: pd.DataFrame, columns: ColumnNames, judging: Judging, reference: Reference
) -> tuple[list[CheckFailure], Score | None]:
    failures: list[CheckFailure] = []
    if judging.checks is not None and reference.expected is not None:
        failures = run_checks(predictions, reference.expected, columns, judging.checks)
    if reference.truth is None:
        return failures, None
    from crunch_cli.runner.scoring import score

    try:
        value = score(judging.metric, predictions, reference.truth, columns)
    except RunnerError as error:
        return failures, Score(judging.metric, None, error.message)
    return failures, Score(judging.metric, value)
