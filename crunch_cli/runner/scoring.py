"""Local scores: the competition's metric on predictions against a validation target.

Pure functions over DataFrames, shared with the hub's leaderboard. Spearman is computed
per moon and averaged, as timeseries leaderboards do; the others pool every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from crunch_cli.errors import RunnerError
from crunch_cli.runner.spec import ColumnNames

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_LOGLOSS_EPSILON = 1e-15


def spearman(frame: pd.DataFrame, moon: str | None) -> float:
    """Mean over moons of the rank correlation; a moon where either side is constant is 0."""
    import numpy as np
    import pandas as pd

    key = frame[moon].to_numpy() if moon is not None else np.zeros(len(frame), dtype=int)
    grouped = frame.groupby(key, sort=False)
    prediction = grouped["_prediction"].rank()
    target = grouped["_target"].rank()
    prediction -= prediction.groupby(key).transform("mean")
    target -= target.groupby(key).transform("mean")
    sums = (
        pd.DataFrame({"pt": prediction * target, "pp": prediction**2, "tt": target**2})
        .groupby(key)
        .sum()
    )
    denominator = np.sqrt(sums["pp"] * sums["tt"])
    correlation = (sums["pt"] / denominator).where(denominator > 0, 0.0)
    return float(correlation.mean())


def accuracy(frame: pd.DataFrame, moon: str | None) -> float:
    """Share of exact labels; probabilities of a 0/1 target are cut at 0.5 first."""
    import numpy as np

    prediction = frame["_prediction"].to_numpy()
    target = frame["_target"].to_numpy()
    if _is_binary(target) and np.issubdtype(prediction.dtype, np.floating):
        prediction = (prediction >= 0.5).astype(target.dtype)
    return float(np.mean(prediction == target))


def rmse(frame: pd.DataFrame, moon: str | None) -> float:
    import numpy as np

    error = frame["_prediction"].to_numpy(float) - frame["_target"].to_numpy(float)
    return float(np.sqrt(np.mean(error**2)))


def logloss(frame: pd.DataFrame, moon: str | None) -> float:
    """Binary log loss of the predicted probability of class 1."""
    import numpy as np

    probability = np.clip(frame["_prediction"].to_numpy(float), _LOGLOSS_EPSILON, None)
    probability = np.clip(probability, None, 1 - _LOGLOSS_EPSILON)
    target = frame["_target"].to_numpy(float)
    return float(-np.mean(target * np.log(probability) + (1 - target) * np.log(1 - probability)))


def _is_binary(values: np.ndarray) -> bool:
    import numpy as np

    return bool(np.isin(np.unique(values), [0, 1]).all())


METRICS: dict[str, Callable[[pd.DataFrame, str | None], float]] = {
    "spearman": spearman,
    "accuracy": accuracy,
    "rmse": rmse,
    "logloss": logloss,
}

LOWER_IS_BETTER = frozenset({"rmse", "logloss"})


def score(
    metric: str, prediction: pd.DataFrame, truth: pd.DataFrame, columns: ColumnNames
) -> float:
    """The metric over the rows present in both frames, matched on id (and moon)."""
    function = METRICS.get(metric.lower())
    if function is None:
        raise RunnerError(
            f"unknown metric {metric!r}; local scoring knows {', '.join(METRICS)}",
            hint="the hub still scores the submission; skip local scoring for now",
        )
    keys = columns.keys
    for frame, what, column in (
        (prediction, "prediction", columns.prediction),
        (truth, "y_test", columns.target),
    ):
        absent = [name for name in (*keys, column) if name not in frame.columns]
        if absent:
            raise RunnerError(f"cannot score: the {what} has no column {absent[0]!r}")
    merged = (
        prediction[[*keys, columns.prediction]]
        .rename(columns={columns.prediction: "_prediction"})
        .merge(
            truth[[*keys, columns.target]].rename(columns={columns.target: "_target"}),
            on=keys,
            how="inner",
        )
    )
    if merged.empty:
        raise RunnerError("cannot score: no prediction row matches a row of y_test")
    return function(merged, columns.moon)
