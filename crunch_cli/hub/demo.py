"""Seeded demo competitions, one per format, with real signal so that a simple model
beats chance on the hidden test set.

Each generator is pure: it writes parquet files (and a `hidden/` sub-folder) into a folder
and returns the keyword arguments of `organizer.create_competition` for that folder.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from crunch_cli.demo import FORMATS
from crunch_cli.hub import organizer
from crunch_cli.hub.models import Competition
from crunch_cli.hub.organizer import HIDDEN_DIRECTORY
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore

if TYPE_CHECKING:
    import pandas

SEED = 42
NAMES = FORMATS  # the competition name of each format, as `crunch demo` knows them
NUMBER_OF_FEATURES = 20


def _write_release(
    folder: Path,
    x: pandas.DataFrame,
    y: pandas.DataFrame,
    rows: dict[str, Any],
    example: Callable[[pandas.DataFrame], pandas.DataFrame],
) -> None:
    """Split x/y by `rows` ("train", "test", "hidden" selectors) into the release files
    and the hidden test set; `example` makes an example prediction from the test inputs."""
    parts = {
        name: (x[selector].reset_index(drop=True), y[selector].reset_index(drop=True))
        for name, selector in rows.items()
    }
    frames = {
        "X_train": parts["train"][0],
        "y_train": parts["train"][1],
        "X_test": parts["test"][0],
        "y_test": parts["test"][1],
        "example_prediction": example(parts["test"][0]),
        f"{HIDDEN_DIRECTORY}/X_test": parts["hidden"][0],
        f"{HIDDEN_DIRECTORY}/y_test": parts["hidden"][1],
    }
    for relative, frame in frames.items():
        path = folder / f"{relative}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)


def _feature_names() -> list[str]:
    return [f"feature_{index:02d}" for index in range(NUMBER_OF_FEATURES)]


def timeseries(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """50 ids by 100 moons: train 0-59, validation 60-79 (with y_test), hidden 80-99.

    The target mixes three features plus noise: a linear fit reaches a Spearman
    correlation around 0.35 per moon.
    """
    import numpy
    import pandas

    rng = numpy.random.default_rng(seed)
    ids, moons = 50, 100
    features = _feature_names()
    values = rng.standard_normal((ids * moons, NUMBER_OF_FEATURES)).astype("float32")
    x = pandas.DataFrame(values, columns=features)
    x.insert(0, "moon", numpy.repeat(numpy.arange(moons), ids))
    x.insert(0, "id", [f"asset_{index:02d}" for index in range(ids)] * moons)
    signal = 0.3 * values[:, 0] + 0.2 * values[:, 1] - 0.2 * values[:, 2]
    y = x[["id", "moon"]].assign(target=signal + rng.standard_normal(len(x)))

    moon = x["moon"]
    _write_release(
        folder,
        x,
        y,
        {"train": moon < 60, "test": (moon >= 60) & (moon < 80), "hidden": moon >= 80},
        lambda x_test: x_test[["id", "moon"]].assign(prediction=rng.uniform(size=len(x_test))),
    )
    return {
        "name": NAMES["timeseries"],
        "data_dir": folder,
        "format": "timeseries",
        "embargo": 2,
        "metric": "spearman",
        "display_name": "Demo: time series",
    }


def cross_sectional(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """3,000 train rows, 1,000 validation (with y_test), 1,000 hidden; binary target.

    The label is a noisy threshold of a linear mix of four features: a linear classifier
    gets about 75% accuracy.
    """
    import numpy
    import pandas

    rng = numpy.random.default_rng(seed)
    rows = 5000
    features = _feature_names()
    values = rng.standard_normal((rows, NUMBER_OF_FEATURES)).astype("float32")
    x = pandas.DataFrame(values, columns=features)
    x.insert(0, "id", [f"row_{index:05d}" for index in range(rows)])
    score = values[:, 0] - values[:, 1] + 0.5 * values[:, 2] + 0.5 * values[:, 3]
    label = (score + rng.logistic(scale=0.5, size=rows) > 0).astype("int64")
    y = x[["id"]].assign(target=label)
    _write_release(
        folder,
        x,
        y,
        {"train": slice(0, 3000), "test": slice(3000, 4000), "hidden": slice(4000, 5000)},
        lambda x_test: x_test[["id"]].assign(prediction=rng.integers(0, 2, size=len(x_test))),
    )
    return {
        "name": NAMES["cross-sectional"],
        "data_dir": folder,
        "format": "cross-sectional",
        "metric": "accuracy",
        "checks": [
            {"function": "COLUMNS_NAME"},
            {"function": "NANS"},
            {"function": "IDS"},
            {"function": "VALUES_ALLOWED", "parameters": {"values": [0, 1]}},
        ],
        "display_name": "Demo: cross-sectional",
    }


def stream(folder: Path, seed: int = SEED) -> dict[str, Any]:
    """10 AR(1) streams of 300 steps; the target is the next value of `x`.

    Steps 0-179 train, 180-239 validation (with y_test), 240-299 hidden. With a 0.8
    autoregression, predicting 0.8·x beats predicting 0 by a wide RMSE margin.
    """
    import numpy
    import pandas

    rng = numpy.random.default_rng(seed)
    streams, steps = 10, 300
    series = numpy.zeros((streams, steps + 1))
    series[:, 0] = rng.standard_normal(streams)
    for step in range(1, steps + 1):
        series[:, step] = 0.8 * series[:, step - 1] + 0.6 * rng.standard_normal(streams)
    names = [f"stream_{index:02d}" for index in range(streams)]
    x = pandas.DataFrame(
        {
            "id": numpy.repeat(names, steps),
            "moon": numpy.tile(numpy.arange(steps), streams),
            "x": series[:, :-1].ravel(),
        }
    )
    y = x[["id", "moon"]].assign(target=series[:, 1:].ravel())

    step = x["moon"]
    _write_release(
        folder,
        x,
        y,
        {"train": step < 180, "test": (step >= 180) & (step < 240), "hidden": step >= 240},
        lambda x_test: x_test[["id", "moon"]].assign(prediction=rng.standard_normal(len(x_test))),
    )
    return {
        "name": NAMES["stream"],
        "data_dir": folder,
        "format": "stream",
        "metric": "rmse",
        "display_name": "Demo: stream",
    }


GENERATORS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "timeseries": timeseries,
    "cross-sectional": cross_sectional,
    "stream": stream,
}


def create_demo_competitions(settings: HubSettings) -> list[str]:
    """Register the three demo competitions that are not there yet; returns all names."""
    with HubStore(settings) as store, store.session() as session:
        existing = set(session.scalars(select(Competition.name)))
    for format_name, generate in GENERATORS.items():
        if NAMES[format_name] in existing:
            continue
        with tempfile.TemporaryDirectory(prefix="crunch-demo-") as folder:
            organizer.create_competition(settings, **generate(Path(folder)))
    return list(NAMES.values())
