"""An organizer registers a built-in format's data: the target and prediction columns are
found when there is one candidate, and inconsistent data is refused with every problem
listed at once, nothing registered."""

from __future__ import annotations

import shutil

import pandas as pd
from test_hub_cli import crunch

from crunch_cli.hub.models import Competition
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore


def copy_of(demo_data, tmp_path, format_name: str = "timeseries"):
    data = tmp_path / "data"
    shutil.copytree(demo_data[format_name].folder, data)
    return data


def rewrite(path, change) -> None:
    change(pd.read_parquet(path)).to_parquet(path, index=False)


def test_create_finds_the_target_and_prediction_columns_when_there_is_one_candidate(
    tmp_path, demo_data
):
    data = copy_of(demo_data, tmp_path)
    for name in ("y_train", "y_test", "hidden/y_test"):
        rewrite(data / f"{name}.parquet", lambda frame: frame.rename(columns={"target": "label"}))
    rewrite(
        data / "example_prediction.parquet",
        lambda frame: frame.rename(columns={"prediction": "guess"}),
    )
    root = tmp_path / "hub"

    created = crunch(
        "hub", "competition", "create", "w", "--data-dir", str(data), "--root", str(root)
    )

    assert created.exit_code == 0, created.output
    with HubStore(HubSettings(root)) as store, store.session(write=False) as session:
        (row,) = session.query(Competition).all()
        assert (row.target_column, row.prediction_column) == ("label", "guess")


def test_create_lists_every_inconsistency_at_once_and_registers_nothing(tmp_path, demo_data):
    data = copy_of(demo_data, tmp_path)
    rewrite(data / "hidden" / "X_test.parquet", lambda frame: frame.drop(columns=["feature_03"]))
    rewrite(data / "example_prediction.parquet", lambda frame: frame.iloc[5:])
    last_moon = pd.read_parquet(data / "hidden" / "X_test.parquet")["moon"].max()
    rewrite(data / "hidden" / "y_test.parquet", lambda frame: frame[frame["moon"] != last_moon])
    rewrite(data / "X_train.parquet", lambda frame: pd.concat([frame, frame.iloc[:2]]))
    rewrite(
        data / "y_train.parquet", lambda frame: frame.assign(target=frame["target"].astype(str))
    )
    root = tmp_path / "hub"

    result = crunch(
        "hub", "competition", "create", "w", "--data-dir", str(data), "--root", str(root)
    )

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    error = result.stderr
    assert error.startswith(f"error: the data in {data} has 5 problems:\n")
    assert f"{data / 'hidden' / 'X_test.parquet'}: lacks the X_train feature(s) feature_03" in error
    assert (
        f"{data / 'example_prediction.parquet'}: its (id, moon) keys differ from X_test's: 5"
        in error
    )
    assert (
        f"{data / 'hidden' / 'y_test.parquet'}: has no target for the X_test moon(s) {last_moon}"
        in error
    )
    assert f"{data / 'X_train.parquet'}: 2 duplicate (id, moon) row(s)" in error
    assert f"{data / 'y_train.parquet'}: the target column 'target' holds " in error
    assert "values, which spearman cannot score (it needs numbers)" in error
    assert "hint: nothing was registered" in error
    assert not root.exists()
