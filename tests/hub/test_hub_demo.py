"""The demo competitions carry real signal: a least-squares fit on the public training
data beats chance on the hidden test set the hub keeps for itself."""

from __future__ import annotations

import numpy
import pandas

from crunch_cli.hub import demo


def fit_predict(folder, features: list[str]) -> tuple[pandas.DataFrame, numpy.ndarray]:
    x_train = pandas.read_parquet(folder / "X_train.parquet")
    y_train = pandas.read_parquet(folder / "y_train.parquet")
    hidden_x = pandas.read_parquet(folder / "hidden" / "X_test.parquet")
    hidden_y = pandas.read_parquet(folder / "hidden" / "y_test.parquet")
    design = numpy.column_stack([x_train[features].to_numpy(), numpy.ones(len(x_train))])
    weights, *_ = numpy.linalg.lstsq(design, y_train["target"].to_numpy(), rcond=None)
    hidden_design = numpy.column_stack([hidden_x[features].to_numpy(), numpy.ones(len(hidden_x))])
    return hidden_y, hidden_design @ weights


def test_timeseries_demo_rewards_a_linear_model_on_hidden_moons(demo_data):
    folder = demo_data["timeseries"].folder
    features = [f"feature_{index:02d}" for index in range(20)]

    hidden_y, prediction = fit_predict(folder, features)

    scored = hidden_y.assign(prediction=prediction)
    per_moon = scored.groupby("moon").apply(
        lambda moon: moon["target"].rank().corr(moon["prediction"].rank())
    )
    assert sorted(scored["moon"].unique()) == list(range(80, 100))
    assert per_moon.mean() > 0.2


def test_cross_sectional_demo_rewards_a_linear_classifier(demo_data):
    folder = demo_data["cross-sectional"].folder
    features = [f"feature_{index:02d}" for index in range(20)]

    hidden_y, prediction = fit_predict(folder, features)

    accuracy = ((prediction > 0.5).astype(int) == hidden_y["target"]).mean()
    assert set(hidden_y["target"].unique()) == {0, 1}
    assert accuracy > 0.65


def test_stream_demo_rewards_an_autoregressive_model(demo_data):
    folder = demo_data["stream"].folder

    hidden_y, prediction = fit_predict(folder, ["x"])

    rmse = numpy.sqrt(((prediction - hidden_y["target"]) ** 2).mean())
    rmse_of_zero = numpy.sqrt((hidden_y["target"] ** 2).mean())
    assert rmse < 0.8 * rmse_of_zero


def test_demo_data_is_the_same_for_the_same_seed(tmp_path):
    first = demo.timeseries(tmp_path / "one")
    second = demo.timeseries(tmp_path / "two")

    for name in ("X_train", "y_train", "example_prediction", "hidden/y_test"):
        left = pandas.read_parquet(first["data_dir"] / f"{name}.parquet")
        right = pandas.read_parquet(second["data_dir"] / f"{name}.parquet")
        pandas.testing.assert_frame_equal(left, right)
