"""The competition formats, as the child runs them; one module per format.

Each module has a `FormatRun` with `run()` (the full train/infer schedule, returning the
predictions) and `infer_sample()` (one infer on a small slice, for the determinism check).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from crunch_cli.runner.calls import Caller, Events, ProtocolError
from crunch_cli.runner.spec import Format, RunSpec

if TYPE_CHECKING:
    import pandas as pd


class FormatRun(Protocol):
    def run(self) -> pd.DataFrame: ...

    def infer_sample(self) -> pd.DataFrame: ...


def make(module: Any, spec: RunSpec, events: Events) -> FormatRun:
    from crunch_cli.runner.formats import cross_sectional, stream, timeseries

    kinds: dict[Format, Callable[[Any, RunSpec, Events], FormatRun]] = {
        Format.TIMESERIES: timeseries.TimeseriesRun,
        Format.CROSS_SECTIONAL: cross_sectional.CrossSectionalRun,
        Format.STREAM: stream.StreamRun,
    }
    return kinds[spec.format](module, spec, events)


def read_frame(path: Path) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(path)


def has_model(model_dir: Path) -> bool:
    """A model directory counts as empty when it only holds hidden files (.gitkeep)."""
    try:
        return any(not entry.name.startswith(".") for entry in model_dir.iterdir())
    except OSError:
        return False


def common_values(spec: RunSpec) -> dict[str, Any]:
    """The parameters every call may ask for by name."""
    columns = spec.columns
    return {
        "model_directory_path": str(spec.model_dir),
        "id_column_name": columns.id,
        "moon_column_name": columns.moon,
        "target_column_name": columns.target,
        "prediction_column_name": columns.prediction,
        "column_names": columns,
        "embargo": spec.embargo,
        "has_gpu": bool(spec.has_gpu),
        "number_of_features": spec.number_of_features,
    }


def require_frame(value: Any, caller: Caller) -> pd.DataFrame:
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        raise ProtocolError(
            f"{caller.name}() must return a pandas DataFrame, not {type(value).__name__}"
        )
    return value
