"""Timeseries quickstarter: a ridge regression of the target on every feature.

`crunch test` calls train() on the moons before the current one (minus the embargo) and
infer() on one moon at a time. Replace the model, keep the two signatures.
"""

from pathlib import Path

import numpy as np
import pandas as pd

RIDGE = 10.0


def _features(frame: pd.DataFrame, id_column_name: str, moon_column_name: str) -> list[str]:
    return [column for column in frame.columns if column not in (id_column_name, moon_column_name)]


def train(
    X_train: pd.DataFrame,
    y_train: pd.DataFrame,
    model_directory_path: str,
    id_column_name: str,
    moon_column_name: str,
    target_column_name: str,
) -> None:
    features = _features(X_train, id_column_name, moon_column_name)
    data = X_train.merge(y_train, on=[id_column_name, moon_column_name])
    x = data[features].to_numpy(dtype="float64")
    y = data[target_column_name].to_numpy(dtype="float64")
    weights = np.linalg.solve(x.T @ x + RIDGE * np.eye(len(features)), x.T @ y)
    np.save(Path(model_directory_path) / "weights.npy", weights)


def infer(
    X_test: pd.DataFrame,
    model_directory_path: str,
    id_column_name: str,
    moon_column_name: str,
    prediction_column_name: str,
) -> pd.DataFrame:
    weights = np.load(Path(model_directory_path) / "weights.npy")
    features = _features(X_test, id_column_name, moon_column_name)
    prediction = X_test[[id_column_name, moon_column_name]].copy()
    prediction[prediction_column_name] = X_test[features].to_numpy(dtype="float64") @ weights
    return prediction
