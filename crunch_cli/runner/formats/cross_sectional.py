"""Cross-sectional (the hub's DAG format): train once, infer once on the whole test set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crunch_cli.runner.calls import Caller, Events
from crunch_cli.runner.formats import common_values, has_model, read_frame, require_frame
from crunch_cli.runner.spec import RunSpec

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_FRACTION = 10


class CrossSectionalRun:
    def __init__(self, module: Any, spec: RunSpec, events: Events) -> None:
        self.spec = spec
        self.train = Caller.find(module, "train", events)
        self.infer = Caller.find(module, "infer", events)
        self.x_test = read_frame(spec.data_files.x_test)
        self.values = common_values(spec)

    def run(self) -> pd.DataFrame:
        trains = self.spec.force_train or not has_model(self.spec.model_dir)
        if trains:
            values = {
                **self.values,
                "X_train": read_frame(self.spec.data_files.x_train),
                "y_train": read_frame(self.spec.data_files.y_train),
                "has_trained": True,
            }
            self.train(values)
            del values
        return self._infer(self.x_test, has_trained=trains)

    def infer_sample(self) -> pd.DataFrame:
        sample = self.x_test.head(max(1, len(self.x_test) // SAMPLE_FRACTION))
        return self._infer(sample, has_trained=False)

    def _infer(self, x_test: pd.DataFrame, *, has_trained: bool) -> pd.DataFrame:
        values = {**self.values, "X_test": x_test, "has_trained": has_trained}
        return require_frame(self.infer(values), self.infer)
