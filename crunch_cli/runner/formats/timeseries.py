"""Timeseries: a walk over the test moons, training on the past, inferring one moon.

The frames are sorted by moon once; every per-moon slice after that is a contiguous
`iloc` range found by binary search, so the whole walk costs O(rows), not O(rows x moons).

For the same reason the training data of a moon is a prefix of the sorted frames, known by
its two row counts: when they are those of the previous `train()` call (an embargo beyond
the training moons, or a train frequency over moons with no new targets), the data is the
same rows and retraining on it would only cost time, so that call is left out and
reported (`--force-train` makes every call). Comparing two numbers costs nothing, where
hashing the frames would cost a pass over them on every moon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crunch_cli.runner.calls import Caller, Events, ProtocolError
from crunch_cli.runner.formats import common_values, has_model, read_frame, require_frame
from crunch_cli.runner.spec import RunSpec

if TYPE_CHECKING:
    import pandas as pd


class TimeseriesRun:
    def __init__(self, module: Any, spec: RunSpec, events: Events) -> None:
        self.spec = spec
        self.events = events
        self.train = Caller.find(module, "train", events)
        self.infer = Caller.find(module, "infer", events)
        moon = spec.columns.moon
        if moon is None:
            raise ProtocolError("a timeseries competition needs a moon column in its data release")
        self.moon = moon
        self.x_train = _by_moon(read_frame(spec.data_files.x_train), moon)
        self.y_train = _by_moon(read_frame(spec.data_files.y_train), moon)
        self.x_test = _by_moon(read_frame(spec.data_files.x_test), moon)
        self.values = common_values(spec)

    def run(self) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        test_moons = self.x_test[self.moon].to_numpy()
        moons, starts = np.unique(test_moons, return_index=True)
        ends = [*starts[1:], len(test_moons)]
        train_moons = self.x_train[self.moon].to_numpy()
        target_moons = self.y_train[self.moon].to_numpy()
        first_train = self.spec.force_first_train or self.spec.force_train
        first_train = first_train or not has_model(self.spec.model_dir)
        frequency = self.spec.train_frequency
        self.events.send(type="plan", total=len(moons))
        trained_on: tuple[int, int] | None = None  # the row counts of the last train()
        predictions = []
        for index, (moon, start, end) in enumerate(zip(moons, starts, ends, strict=True)):
            trains = (frequency != 0 and index % frequency == 0) or (index == 0 and first_train)
            values = {**self.values, "moon": moon, "current_moon": moon}
            if trains:
                cut = moon - self.spec.embargo
                rows = (
                    int(np.searchsorted(train_moons, cut)),
                    int(np.searchsorted(target_moons, cut)),
                )
                if rows == trained_on and not self.spec.force_train:
                    self.events.send(type="skip", phase="train")
                    trains = False
                else:
                    trained_on = rows
                    values["X_train"] = self.x_train.iloc[: rows[0]]
                    values["y_train"] = self.y_train.iloc[: rows[1]]
                    values["has_trained"] = True
                    self.train(values, moon)
            values["has_trained"] = trains
            values["X_test"] = self.x_test.iloc[start:end]
            predictions.append(require_frame(self.infer(values, moon), self.infer))
        if not predictions:
            raise ProtocolError("X_test has no rows: there is no moon to infer")
        return pd.concat(predictions, ignore_index=True)

    def infer_sample(self) -> pd.DataFrame:
        """Infer the last test moon again, with the model as the run left it."""
        last = self.x_test[self.moon].iloc[-1]
        start = self.x_test[self.moon].searchsorted(last)
        values = {**self.values, "moon": last, "current_moon": last, "has_trained": False}
        values["X_test"] = self.x_test.iloc[start:]
        return require_frame(self.infer(values, last), self.infer)


def _by_moon(frame: pd.DataFrame, moon: str) -> pd.DataFrame:
    if moon not in frame.columns:
        raise ProtocolError(f"the data has no {moon!r} column, which the timeseries walk needs")
    if frame[moon].is_monotonic_increasing:
        return frame  # the usual case: sorting would only cost a copy of the data
    return frame.sort_values(moon, kind="stable", ignore_index=True)
