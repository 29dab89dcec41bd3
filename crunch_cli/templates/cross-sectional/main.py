"""Cross-sectional quickstarter: a linear discriminant that predicts the 0/1 label.

`crunch test` calls train() once (when the model directory is empty) and infer() once on
the whole test set. Replace the model, keep the two signatures.
"""

from pathlib import Path

import numpy as np
import pandas as pd

RIDGE = 1.0


def _features(frame: pd.DataFrame, id_column_name: str) -> list[str]:
    return [column for column in frame.columns if column != id_column_name]


def train(
    X_train: pd.DataFrame,
    y_train: pd.DataFrame,
    model_directory_path: str,
    id_column_name: str,
    target_column_name: str,
) -> None:
    features = _features(X_train, id_column_name)
    data = X_train.merge(y_train, on=id_column_name)
    x = np.column_stack([np.ones(len(data)), data[features].to_numpy(dtype="float64")])
    y = data[target_column_name].to_numpy(dtype="float64")
    weights = np.linalg.solve(x.T @ x + RIDGE * np.eye(x.shape[1]), x.T @ y)
    np.save(Path(model_directory_path) / "weights.npy", weights)


def infer(
    X_test: pd.DataFrame,
    model_directory_path: str,
    id_column_name: str,
    prediction_column_name: str,
) -> pd.DataFrame:
    weights = np.load(Path(model_directory_path) / "weights.npy")
    features = _features(X_test, id_column_name)
    x = np.column_stack([np.ones(len(X_test)), X_test[features].to_numpy(dtype="float64")])
    prediction = X_test[[id_column_name]].copy()
    prediction[prediction_column_name] = (x @ weights > 0.5).astype("int64")
    return prediction
