"""Checks of a built-in format's data folder before anything of it is registered.

An organizer fixing a release wants every problem at once, not one per attempt: every
check here runs, and `check_release` raises one error listing all of them. The target and
prediction columns are inferred when the organizer names none and there is one candidate.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crunch_cli.errors import CrunchError
from crunch_cli.hub import data_folder

if TYPE_CHECKING:
    import pandas as pd

RELEASE_FILES = ("X_train", "y_train", "X_test", "y_test", "example_prediction")
OPTIONAL_FILES = ("y_test",)
HIDDEN_FILES = ("X_test", "y_test")
HIDDEN_DIRECTORY = data_folder.HIDDEN_DIRECTORY
DEFAULT_TARGET = "target"
DEFAULT_PREDICTION = "prediction"
NUMERIC_METRICS = ("spearman", "rmse", "logloss")
MAX_SHOWN = 5


@dataclasses.dataclass(frozen=True)
class Release:
    """The folder's files, (key, path, hidden), and the column names, inferred or given."""

    files: list[tuple[str, Path, bool]]
    id_column: str
    moon_column: str | None
    target_column: str
    prediction_column: str

    @property
    def keys(self) -> list[str]:
        return [self.id_column] + ([self.moon_column] if self.moon_column else [])


class _Problems(list[str]):
    def add(self, where: Path | str, message: str) -> None:
        self.append(f"{where}: {message}")


def check_release(
    data_dir: Path,
    *,
    id_column: str,
    moon_column: str | None,
    target_column: str | None,
    prediction_column: str | None,
    metric: str,
) -> Release:
    """The release in `data_dir`, every file read and cross-checked; raises one
    `CrunchError` listing every problem found."""
    if not data_dir.is_dir():
        raise CrunchError(
            f"{data_dir} is not a folder", hint="pass the folder holding X_train.parquet etc."
        )
    problems = _Problems()
    files = _files(data_dir, problems)
    frames = {(key, hidden): _read(path, problems) for key, path, hidden in files}
    keys = [id_column] + ([moon_column] if moon_column else [])
    target = target_column or _only_column(frames.get(("y_train", False)), keys, DEFAULT_TARGET)
    prediction = prediction_column or _only_column(
        frames.get(("example_prediction", False)), keys, DEFAULT_PREDICTION
    )
    release = Release(files, id_column, moon_column, target, prediction)
    paths = {(key, hidden): path for key, path, hidden in files}
    for (key, hidden), frame in frames.items():
        if frame is not None:
            _check_file(release, key, paths[key, hidden], frame, metric, problems)
    _cross_check(release, frames, paths, problems)
    if problems:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        raise CrunchError(
            problems[0]
            if len(problems) == 1
            else f"the data in {data_dir} has {len(problems)} problems:{listed}",
            hint="nothing was registered; fix the files, or name the columns with "
            "--id-column, --moon-column, --target-column, --prediction-column",
        )
    return release


def _files(data_dir: Path, problems: _Problems) -> list[tuple[str, Path, bool]]:
    found = [
        (key, data_dir / f"{key}.parquet", False)
        for key in RELEASE_FILES
        if key not in OPTIONAL_FILES or (data_dir / f"{key}.parquet").exists()
    ]
    hidden_dir = data_dir / HIDDEN_DIRECTORY
    if hidden_dir.is_dir():
        found += [(key, hidden_dir / f"{key}.parquet", True) for key in HIDDEN_FILES]
    for _key, path, _hidden in found:
        if not path.is_file():
            problems.add(
                path,
                "missing: a data folder needs X_train, y_train, X_test and "
                "example_prediction (see `crunch hub demo-data`)",
            )
    return [item for item in found if item[1].is_file()]


def _read(path: Path, problems: _Problems) -> pd.DataFrame | None:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types for bad files
        problems.add(path, f"cannot be read as parquet: {error}")
        return None


def _only_column(frame: pd.DataFrame | None, keys: list[str], default: str) -> str:
    """The one column besides the keys, else the default name (checked like a given one)."""
    if frame is None:
        return default
    others = [str(name) for name in frame.columns if name not in keys]
    return others[0] if len(others) == 1 else default


def _check_file(
    release: Release, key: str, path: Path, frame: pd.DataFrame, metric: str, problems: _Problems
) -> None:
    import pandas as pd

    required = list(release.keys)
    if key.startswith("y_"):
        required.append(release.target_column)
    elif key == "example_prediction":
        required.append(release.prediction_column)
    missing = [column for column in required if column not in frame.columns]
    if missing:
        names = [str(name) for name in frame.columns]
        problems.add(
            path,
            f"no column {', '.join(map(repr, missing))} (it has: {', '.join(names[:10])}"
            f"{', ...' if len(names) > 10 else ''})",
        )
        return
    duplicated = frame.duplicated(subset=release.keys)
    if duplicated.any():
        rows = frame.loc[duplicated, release.keys].head(MAX_SHOWN).to_dict("records")
        problems.add(
            path, f"{int(duplicated.sum())} duplicate {_keys(release)} row(s), e.g. {rows}"
        )
    if key.startswith("y_") and metric.lower() in NUMERIC_METRICS:
        values = frame[release.target_column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            problems.add(
                path,
                f"the target column {release.target_column!r} holds {values.dtype} values, "
                f"which {metric} cannot score (it needs numbers)",
            )


def _cross_check(
    release: Release,
    frames: dict[tuple[str, bool], pd.DataFrame | None],
    paths: dict[tuple[str, bool], Path],
    problems: _Problems,
) -> None:
    """What one file promises about another: the hidden test set has the training
    features, the example covers exactly the test keys, the targets cover the test moons."""
    x_train = frames.get(("X_train", False))
    features = [] if x_train is None else [c for c in x_train.columns if c not in release.keys]
    hidden_x = frames.get(("X_test", True))
    if hidden_x is not None and features:
        absent = [str(name) for name in features if name not in hidden_x.columns]
        if absent:
            problems.add(paths["X_test", True], f"lacks the X_train feature(s) {_some(absent)}")
    example, public_x = frames.get(("example_prediction", False)), frames.get(("X_test", False))
    if _has(example, release.keys) and _has(public_x, release.keys):
        assert example is not None and public_x is not None
        extra, lacking_rows = _difference(example, public_x, release.keys)
        if extra or lacking_rows:
            problems.add(
                paths["example_prediction", False],
                f"its {_keys(release)} keys differ from X_test's: {lacking_rows} of X_test's "
                f"missing, {extra} not in X_test",
            )
    if release.moon_column is None:
        return
    for hidden in (False, True):
        x_test, y_test = frames.get(("X_test", hidden)), frames.get(("y_test", hidden))
        if not (_has(x_test, [release.moon_column]) and _has(y_test, [release.moon_column])):
            continue
        assert x_test is not None and y_test is not None
        lacking = sorted(
            set(x_test[release.moon_column].unique()) - set(y_test[release.moon_column].unique())
        )
        if lacking:
            problems.add(
                paths["y_test", hidden],
                f"has no target for the X_test moon(s) {_some([str(m) for m in lacking])}",
            )


def _has(frame: pd.DataFrame | None, columns: list[str]) -> bool:
    return frame is not None and all(column in frame.columns for column in columns)


def _difference(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> tuple[int, int]:
    """How many key rows only `left` has, and only `right` has."""
    merged = (
        left[keys]
        .drop_duplicates()
        .merge(right[keys].drop_duplicates(), on=keys, how="outer", indicator=True)
    )
    side = merged["_merge"]
    return int((side == "left_only").sum()), int((side == "right_only").sum())


def _keys(release: Release) -> str:
    return "(" + ", ".join(release.keys) + ")"


def _some(values: list[Any]) -> str:
    shown = ", ".join(map(str, values[:MAX_SHOWN]))
    return shown + (f" and {len(values) - MAX_SHOWN} more" if len(values) > MAX_SHOWN else "")
