"""Checks and score of a run's predictions, computed in the child (see `spec.Judging`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crunch_cli.errors import RunnerError
from crunch_cli.runner.checks import CheckFailure, run_checks
from crunch_cli.runner.spec import Judging, RunSpec, Score

if TYPE_CHECKING:
    import pandas as pd


def judge(
    predictions: pd.DataFrame, spec: RunSpec, judging: Judging
) -> tuple[list[CheckFailure], Score | None]:
    import pandas as pd

    columns = spec.columns
    failures: list[CheckFailure] = []
    if judging.checks is not None:
        expected = pd.read_parquet(spec.data.x_test, columns=columns.keys)
        failures = run_checks(predictions, expected, columns, judging.checks)
    if judging.y_test is None:
        return failures, None
    from crunch_cli.runner.scoring import score

    try:
        value = score(judging.metric, predictions, pd.read_parquet(judging.y_test), columns)
    except RunnerError as error:
        return failures, Score(judging.metric, None, error.message)
    return failures, Score(judging.metric, value)
