"""Local scores match their textbook definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crunch_cli.errors import RunnerError
from crunch_cli.runner.scoring import score
from crunch_cli.runner.spec import ColumnNames

COLUMNS = ColumnNames()


def frames(prediction, target, moons=None):
    ids = [f"i{index}" for index in range(len(prediction))]
    keys = {"id": ids, "moon": moons if moons is not None else [0] * len(ids)}
    return (
        pd.DataFrame({**keys, "prediction": prediction}),
        pd.DataFrame({**keys, "target": target}),
    )


def test_spearman_is_the_mean_of_per_moon_rank_correlations():
    rng = np.random.default_rng(1)
    moons = np.repeat([1, 2, 3], 40)
    prediction, truth = frames(rng.normal(size=120), rng.normal(size=120), moons)
    truth["target"] += prediction["prediction"] * np.repeat([0.1, 1.0, -0.5], 40)
    expected = np.mean(
        [
            pd.DataFrame(
                {"p": prediction["prediction"][moons == moon], "t": truth["target"][moons == moon]}
            )
            .corr(method="spearman")
            .iloc[0, 1]
            for moon in (1, 2, 3)
        ]
    )

    assert score("spearman", prediction, truth, COLUMNS) == pytest.approx(expected)


def test_spearman_of_a_constant_moon_counts_as_zero():
    prediction, truth = frames(
        [1.0, 1.0, 1.0, 1.0, 2.0, 3.0], [1, 2, 3, 1, 2, 3], [0, 0, 0, 1, 1, 1]
    )

    assert score("spearman", prediction, truth, COLUMNS) == pytest.approx(0.5)


def test_accuracy_cuts_probabilities_of_a_binary_target_at_one_half():
    prediction, truth = frames([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 0])

    assert score("accuracy", prediction, truth, ColumnNames(moon=None)) == pytest.approx(0.75)


def test_rmse_and_logloss():
    prediction, truth = frames([0.5, 0.5, 0.9, 0.1], [1, 0, 1, 0])

    assert score("rmse", prediction, truth, COLUMNS) == pytest.approx(np.sqrt(0.13))
    expected = -np.mean(np.log([0.5, 0.5, 0.9, 0.9]))
    assert score("logloss", prediction, truth, COLUMNS) == pytest.approx(expected)


def test_rows_are_matched_by_id_and_moon_whatever_their_order():
    prediction, truth = frames([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])

    shuffled = prediction.iloc[::-1]

    assert score("rmse", shuffled, truth, COLUMNS) == pytest.approx(0.0)


def test_unknown_metric_and_unmatched_rows_are_clear_errors():
    prediction, truth = frames([1.0], [1.0])

    with pytest.raises(RunnerError, match="unknown metric 'mape'"):
        score("mape", prediction, truth, COLUMNS)
    with pytest.raises(RunnerError, match="no prediction row matches a row of y_test"):
        score("rmse", prediction.assign(id="other"), truth, COLUMNS)
    with pytest.raises(RunnerError, match="the prediction has no column 'prediction'"):
        score("rmse", prediction.drop(columns="prediction"), truth, COLUMNS)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.integers(-3, 3), st.integers(-3, 3)),
        min_size=2,
        max_size=60,
    )
)
def test_spearman_matches_pandas_on_ties_and_interleaved_moons(rows):
    moons, predicted, target = (list(column) for column in zip(*rows, strict=True))
    assert_spearman_matches_pandas(moons, predicted, target)


@pytest.mark.parametrize("moons", [1, 3, 40, 500])
def test_spearman_matches_pandas_on_large_and_small_moons(moons):
    rng = np.random.default_rng(moons)
    rows = 2000
    assert_spearman_matches_pandas(
        rng.permutation(np.arange(rows) % moons).tolist(),
        rng.integers(-50, 50, rows).tolist(),
        rng.integers(-50, 50, rows).tolist(),
    )


def assert_spearman_matches_pandas(moons, predicted, target):
    prediction, truth = frames([float(value) for value in predicted], target, moons)
    per_moon = []
    for moon in sorted(set(moons)):
        pair = pd.DataFrame({"p": prediction["prediction"], "t": truth["target"]})[
            prediction["moon"] == moon
        ]
        correlation = pair.corr(method="spearman").iloc[0, 1]
        per_moon.append(0.0 if np.isnan(correlation) else correlation)

    assert score("spearman", prediction, truth, COLUMNS) == pytest.approx(np.mean(per_moon))
