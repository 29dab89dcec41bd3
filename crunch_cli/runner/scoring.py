"""Local scores: the competition's metric on predictions against a validation target.

Pure functions over DataFrames, shared with the hub's leaderboard. Spearman is computed
per moon and averaged, as timeseries leaderboards do; the others pool every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from crunch_cli.errors import RunnerError
from crunch_cli.runner.spec import ColumnNames

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

_LOGLOSS_EPSILON = 1e-15


def spearman(frame: pd.DataFrame, moon: str | None) -> float:
    """Mean over moons of the rank correlation; a moon where either side is constant is 0.

    Rows where either side is missing are left out. Plain numpy over group codes: a
    pandas groupby-rank takes most of a test's scoring time on a large release. The two
    sides are ranked on two threads: numpy sorts without holding the GIL.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import pandas as pd

    prediction = frame["_prediction"].to_numpy(float)
    target = frame["_target"].to_numpy(float)
    present = ~(np.isnan(prediction) | np.isnan(target))
    if moon is None:
        groups = np.zeros(len(frame), "int64")
    else:
        groups = pd.factorize(frame[moon], use_na_sentinel=False)[0]
    groups, prediction, target = groups[present], prediction[present], target[present]
    if not len(groups):
        return 0.0
    sizes = np.bincount(groups)
    kept = sizes > 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        ranked = list(pool.map(_ranks_within, (prediction, target), (groups, groups)))
    centered = [
        ranks - (np.bincount(groups, ranks) / np.maximum(sizes, 1))[groups] for ranks in ranked
    ]
    cross = np.bincount(groups, centered[0] * centered[1])[kept]
    spread = np.sqrt(
        np.bincount(groups, centered[0] ** 2)[kept] * np.bincount(groups, centered[1] ** 2)[kept]
    )
    correlation = np.divide(cross, spread, out=np.zeros_like(cross), where=spread > 0)
    return float(correlation.mean())


def _ranks_within(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """1-based ranks of `values` inside each group, ties sharing their average rank."""
    import numpy as np

    count = len(values)
    order, starts = _order_within(values, groups)
    sorted_values = values[order]
    new_tie = np.ones(count, bool)
    new_tie[1:] = sorted_values[1:] != sorted_values[:-1]
    new_tie[starts] = True
    tie = np.cumsum(new_tie) - 1
    first = np.flatnonzero(new_tie)
    last = np.append(first[1:], count) - 1
    group_first = np.repeat(starts, np.diff(np.append(starts, count)))
    ranks = np.empty(count)
    ranks[order] = (first + last)[tie] / 2 - group_first + 1
    return ranks


_SMALL_GROUP = 32
"""Rows per group under which sorting group by group costs more than one global sort."""


def _order_within(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row order by (group, value), and where each group starts in it.

    Rows are first put in group order by a stable sort, which numpy does in linear time
    (radix) for 16-bit codes. Big groups, such as moons, are then sorted one by one:
    each sort stays in the CPU cache, twice as fast as one sort of every row. Many small
    groups instead get one sort of the values, then the stable sort by group.
    """
    import numpy as np

    count = len(values)
    codes = groups.astype(np.uint16) if groups.max() < 1 << 16 else groups
    order = np.argsort(codes, kind="stable")
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.append(True, sorted_groups[1:] != sorted_groups[:-1]))
    if len(starts) * _SMALL_GROUP > count:
        by_value = np.argsort(values)
        return by_value[np.argsort(codes[by_value], kind="stable")], starts
    grouped = values[order]
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), count], strict=True):
        order[start:end] = order[start:end][np.argsort(grouped[start:end])]
    return order, starts


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
    merged = _matched(prediction, truth, columns)
    if merged.empty:
        raise RunnerError("cannot score: no prediction row matches a row of y_test")
    return function(merged, columns.moon)


MAX_MOONS_DETAILED = 2000


def score_by_moon(
    metric: str, prediction: pd.DataFrame, truth: pd.DataFrame, columns: ColumnNames
) -> list[tuple[int | str, float]]:
    """The metric of each moon, in moon order (none for cross-sectional data, or for more
    moons than a chart or a stored run can show): what the website draws for a run."""
    function = METRICS.get(metric.lower())
    if function is None or columns.moon is None:
        return []
    merged = _matched(prediction, truth, columns)
    moons = merged[columns.moon]
    if moons.nunique() > MAX_MOONS_DETAILED:
        return []
    import numpy as np

    return [
        (int(moon) if isinstance(moon, int | np.integer) else str(moon), function(group, None))
        for moon, group in merged.groupby(columns.moon, sort=True)
    ]


def _matched(prediction: pd.DataFrame, truth: pd.DataFrame, columns: ColumnNames) -> pd.DataFrame:
    """Each prediction row beside the target of the y_test row with the same keys."""
    import pandas as pd

    from crunch_cli.runner.keys import aligned, row_keys

    rows: Any = slice(None)  # prediction rows kept, and the y_test row of each
    truth_rows: Any = slice(None)
    if not aligned(prediction, truth, columns.keys):
        predicted, known = row_keys([prediction, truth], columns.keys)
        index = pd.Index(known)
        if not index.is_unique:
            first = ~index.duplicated()
            index, truth = index[first], truth[first]  # a repeated y_test row scores once
        position = index.get_indexer(predicted)
        rows = position >= 0
        truth_rows = position[rows]
    matched = {
        "_prediction": prediction[columns.prediction].to_numpy()[rows],
        "_target": truth[columns.target].to_numpy()[truth_rows],
    }
    if columns.moon is not None:
        matched[columns.moon] = prediction[columns.moon].to_numpy()[rows]
    return pd.DataFrame(matched)
