"""Every competition check fails on a crafted bad prediction and names what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crunch_cli.runner.checks import Check, CheckFailure, run_checks
from crunch_cli.runner.spec import ColumnNames

COLUMNS = ColumnNames()
EXPECTED = pd.DataFrame({"id": ["a", "b", "c"] * 2, "moon": [1, 1, 1, 2, 2, 2]})
GOOD = EXPECTED.assign(prediction=[0.1, 0.5, 0.9, 0.2, 0.4, 0.6])
ALL_CHECKS = [
    Check("COLUMNS_NAME"),
    Check("NANS", "KEY"),
    Check("IDS", "KEY"),
    Check("MOONS"),
    Check("VALUES_BETWEEN", "KEY", parameters={"min": 0, "max": 1}),
    Check("CONSTANTS", "KEY"),
]


def failures(prediction: pd.DataFrame, *checks: Check) -> list[str]:
    return [str(failure) for failure in run_checks(prediction, EXPECTED, COLUMNS, checks)]


def test_a_good_prediction_passes_every_check():
    assert failures(GOOD, *ALL_CHECKS) == []


def test_columns_name_reports_missing_and_unexpected_columns():
    bad = GOOD.rename(columns={"prediction": "pred"})

    assert failures(bad, Check("COLUMNS_NAME")) == [
        "COLUMNS_NAME: missing column 'prediction'",
        "COLUMNS_NAME: unexpected column 'pred'; expected only ['id', 'moon', 'prediction']",
    ]


def test_nans_reports_nan_and_infinite_values_per_moon():
    bad = GOOD.assign(prediction=[np.nan, 0.5, 0.9, 0.2, np.inf, 0.6])

    assert failures(bad, Check("NANS", "KEY")) == [
        "NANS (moon 1): 1 predictions are NaN, infinite or not numbers (ids 'a')",
        "NANS (moon 2): 1 predictions are NaN, infinite or not numbers (ids 'b')",
    ]


def test_ids_reports_duplicates_missing_and_unknown_ids():
    bad = pd.concat([GOOD.iloc[[0, 0, 1]], GOOD.iloc[3:]]).reset_index(drop=True)
    bad.loc[5, "id"] = "zz"

    assert failures(bad, Check("IDS", "KEY")) == [
        "IDS (moon 1): 1 duplicated ids (ids 'a')",
        "IDS (moon 1): 1 ids of X_test have no prediction (ids 'c')",
        "IDS (moon 2): 1 ids of X_test have no prediction (ids 'c')",
        "IDS (moon 2): 1 ids are not in X_test (ids 'zz')",
    ]


def test_ids_with_root_scope_quotes_the_moons_of_the_offending_rows():
    bad = GOOD[GOOD["id"] != "c"]

    assert failures(bad, Check("IDS", "ROOT")) == [
        "IDS (moons 1, 2): 2 ids of X_test have no prediction (ids 'c', 'c')"
    ]


def test_moons_reports_missing_and_extra_moons():
    bad = pd.concat([GOOD[GOOD["moon"] == 1], GOOD[GOOD["moon"] == 1].assign(moon=9)])

    assert failures(bad, Check("MOONS")) == [
        "MOONS: no prediction for moons [2]",
        "MOONS: moons [9] are not in X_test",
    ]


def test_values_between_reports_values_outside_the_range():
    bad = GOOD.assign(prediction=[0.1, 1.5, 0.9, -3.0, 0.4, 0.6])

    assert failures(bad, Check("VALUES_BETWEEN", "ROOT", parameters={"min": 0, "max": 1})) == [
        "VALUES_BETWEEN (moons 1, 2): 2 predictions are outside [0, 1] (ids 'b', 'a')"
    ]


def test_values_allowed_reports_values_outside_the_set():
    bad = GOOD.assign(prediction=[0, 1, 2, 1, 0, 1])

    assert failures(bad, Check("VALUES_ALLOWED", "KEY", parameters={"values": [0, 1]})) == [
        "VALUES_ALLOWED (moon 1): 1 predictions are not one of [0, 1] (ids 'c')"
    ]


def test_constants_reports_a_moon_where_every_prediction_is_equal():
    bad = GOOD.assign(prediction=[0.3, 0.3, 0.3, 0.2, 0.4, 0.6])

    assert failures(bad, Check("CONSTANTS", "KEY")) == [
        "CONSTANTS (moon 1): every prediction has the same value"
    ]
    assert failures(bad, Check("CONSTANTS", "ROOT")) == []
    assert failures(GOOD.assign(prediction=1.0), Check("CONSTANTS", "ROOT")) == [
        "CONSTANTS (moons 1, 2): every prediction has the same value"
    ]


def test_a_value_check_on_a_missing_column_says_so_instead_of_crashing():
    bad = GOOD.drop(columns="prediction")

    assert failures(bad, Check("NANS"), Check("CONSTANTS")) == [
        "NANS: no 'prediction' column to check",
        "CONSTANTS: no 'prediction' column to check",
    ]


def test_checks_run_in_their_order_and_unknown_checks_are_skipped():
    bad = GOOD.assign(prediction=np.nan).rename(columns={"id": "key"})

    result = run_checks(
        bad,
        EXPECTED,
        COLUMNS,
        [Check("NANS", order=2), Check("FUTURE_CHECK", order=0), Check("COLUMNS_NAME", order=1)],
    )

    assert [failure.check for failure in result] == ["COLUMNS_NAME", "COLUMNS_NAME", "NANS"]


def test_cross_sectional_checks_work_without_a_moon_column():
    columns = ColumnNames(moon=None)
    expected = pd.DataFrame({"id": ["a", "b"]})
    prediction = pd.DataFrame({"id": ["a", "a"], "prediction": [0, 0]})

    result = run_checks(
        prediction, expected, columns, [Check("IDS", "KEY"), Check("CONSTANTS", "KEY")]
    )

    assert [str(failure) for failure in result] == [
        "IDS: 1 duplicated ids (ids 'a')",
        "IDS: 1 ids of X_test have no prediction (ids 'b')",
        "CONSTANTS: every prediction has the same value",
    ]


def test_check_failure_quotes_a_few_ids_and_counts_the_rest():
    failure = CheckFailure("NANS", "9 predictions are NaN", (3,), ("a", "b"), 9)

    assert str(failure) == "NANS (moon 3): 9 predictions are NaN (ids 'a', 'b' and 7 more)"


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.function)
def test_check_from_hub_json_defaults_scope_and_order(check):
    parsed = Check.from_json({"function": check.function.lower()})

    assert (parsed.function, parsed.scope, parsed.order) == (check.function, "ROOT", 0)
