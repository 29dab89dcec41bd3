"""The competition's checks on a prediction frame: pure functions, shared with the hub.

A check with scope ROOT judges the whole prediction at once; scope KEY judges each moon
on its own (the whole frame when the data has no moon). Every failure names the check,
the moon when there is one, and a few of the offending ids, so the user can find the rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from crunch_cli.runner.spec import ColumnNames

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_IDS = 5
"""How many offending ids a failure quotes."""


@dataclasses.dataclass(frozen=True)
class Check:
    function: str
    scope: str = "ROOT"
    order: int = 0
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Check:
        return cls(
            function=str(value["function"]).upper(),
            scope=str(value.get("scope") or "ROOT").upper(),
            order=int(value.get("order") or 0),
            parameters=value.get("parameters") or {},
        )


@dataclasses.dataclass(frozen=True)
class CheckFailure:
    """One broken rule; `moons` and `ids` quote a few of the offending rows, of `count`."""

    check: str
    message: str
    moons: tuple[Any, ...] = ()
    ids: tuple[Any, ...] = ()
    count: int = 0

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> CheckFailure:
        return cls(
            check=value["check"],
            message=value["message"],
            moons=tuple(value["moons"]),
            ids=tuple(value["ids"]),
            count=value["count"],
        )

    def __str__(self) -> str:
        text = f"{self.check}"
        if self.moons:
            label = "moon" if len(self.moons) == 1 else "moons"
            text += f" ({label} {', '.join(str(moon) for moon in self.moons)})"
        text += f": {self.message}"
        if self.ids:
            examples = ", ".join(repr(value) for value in self.ids)
            more = "" if self.count <= len(self.ids) else f" and {self.count - len(self.ids)} more"
            text += f" (ids {examples}{more})"
        return text


def run_checks(
    prediction: pd.DataFrame,
    expected: pd.DataFrame,
    columns: ColumnNames,
    checks: Sequence[Check],
) -> list[CheckFailure]:
    """Every failure of `checks`, in their `order`; `expected` holds the X_test key columns."""
    failures: list[CheckFailure] = []
    for check in sorted(checks, key=lambda check: check.order):
        judge = _JUDGES.get(check.function)
        if judge is None:
            continue  # a check this version does not know; the hub still runs it
        failures.extend(judge(check, _Frames(prediction, expected, columns)))
    return failures


@dataclasses.dataclass
class _Frames:
    prediction: pd.DataFrame
    expected: pd.DataFrame
    columns: ColumnNames

    @property
    def per_moon(self) -> bool:
        return self.columns.moon is not None and self.columns.moon in self.prediction.columns

    def missing(self, check: Check, *names: str | None) -> list[CheckFailure]:
        """A check cannot judge a column that is not there: say so instead of crashing."""
        absent = [name for name in names if name is not None and name not in self.prediction]
        return [CheckFailure(check.function, f"no {name!r} column to check") for name in absent]


def _report(check: Check, frames: _Frames, bad: pd.DataFrame, message: str) -> list[CheckFailure]:
    """Failures for the offending rows `bad`: one per moon with KEY scope, else one.

    `message` may hold `{count}`, filled with the number of offending rows it covers.
    """
    if bad.empty:
        return []
    columns = frames.columns
    if check.scope == "KEY" and columns.moon is not None and columns.moon in bad:
        return [
            _failure(check, message, group, columns, moon)
            for moon, group in bad.groupby(columns.moon, sort=True)
        ]
    return [_failure(check, message, bad, columns, None)]


def _failure(
    check: Check, message: str, bad: pd.DataFrame, columns: ColumnNames, moon: Any
) -> CheckFailure:
    examples = bad.head(EXAMPLE_IDS)
    ids = tuple(examples[columns.id].tolist()) if columns.id in bad else ()
    if moon is not None:
        moons: tuple[Any, ...] = (_plain(moon),)
    elif columns.moon is not None and columns.moon in bad:
        moons = tuple(dict.fromkeys(examples[columns.moon].tolist()))
    else:
        moons = ()
    count = str(len(bad))
    return CheckFailure(check.function, message.replace("{count}", count), moons, ids, len(bad))


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _columns_name(check: Check, frames: _Frames) -> list[CheckFailure]:
    columns = frames.columns
    wanted = [*columns.keys, columns.prediction]
    actual = [str(name) for name in frames.prediction.columns]
    failures = [
        CheckFailure(check.function, f"missing column {name!r}")
        for name in wanted
        if name not in actual
    ]
    failures += [
        CheckFailure(check.function, f"unexpected column {name!r}; expected only {wanted}")
        for name in actual
        if name not in wanted
    ]
    return failures


def _nans(check: Check, frames: _Frames) -> list[CheckFailure]:
    import numpy as np
    import pandas as pd

    name = frames.columns.prediction
    if missing := frames.missing(check, name):
        return missing
    values = pd.to_numeric(frames.prediction[name], errors="coerce").to_numpy(dtype="float64")
    bad = frames.prediction[~np.isfinite(values)]
    return _report(check, frames, bad, "{count} predictions are NaN, infinite or not numbers")


def _ids(check: Check, frames: _Frames) -> list[CheckFailure]:
    import pandas as pd

    from crunch_cli.runner.keys import aligned, row_keys

    keys = frames.columns.keys
    if missing := frames.missing(check, *keys):
        return missing
    prediction, expected = frames.prediction, frames.expected
    if aligned(prediction, expected, keys):
        return []
    predicted, wanted = (pd.Series(key) for key in row_keys([prediction, expected], keys))
    first = ~predicted.duplicated().to_numpy()
    duplicated = prediction[~first]
    absent = expected[~wanted.isin(predicted).to_numpy() & ~wanted.duplicated().to_numpy()]
    unexpected = prediction[~predicted.isin(wanted).to_numpy() & first]
    return [
        *_report(check, frames, duplicated, "{count} duplicated ids"),
        *_report(check, frames, absent, "{count} ids of X_test have no prediction"),
        *_report(check, frames, unexpected, "{count} ids are not in X_test"),
    ]


def _moons(check: Check, frames: _Frames) -> list[CheckFailure]:
    moon = frames.columns.moon
    if moon is None:
        return []
    if missing := frames.missing(check, moon):
        return missing
    predicted = set(frames.prediction[moon].unique().tolist())
    expected = set(frames.expected[moon].unique().tolist())
    failures = []
    if absent := sorted(expected - predicted):
        failures.append(CheckFailure(check.function, f"no prediction for moons {absent[:10]}"))
    if extra := sorted(predicted - expected):
        failures.append(CheckFailure(check.function, f"moons {extra[:10]} are not in X_test"))
    return failures


def _values_between(check: Check, frames: _Frames) -> list[CheckFailure]:
    import pandas as pd

    name = frames.columns.prediction
    if missing := frames.missing(check, name):
        return missing
    low, high = check.parameters.get("min"), check.parameters.get("max")
    values = pd.to_numeric(frames.prediction[name], errors="coerce")
    outside = pd.Series(False, index=values.index)
    if low is not None:
        outside |= values < low
    if high is not None:
        outside |= values > high
    bad = frames.prediction[outside]
    span = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
    return _report(check, frames, bad, "{count} predictions are outside " + span)


def _values_allowed(check: Check, frames: _Frames) -> list[CheckFailure]:
    name = frames.columns.prediction
    if missing := frames.missing(check, name):
        return missing
    allowed = list(check.parameters.get("values") or [])
    bad = frames.prediction[~frames.prediction[name].isin(allowed)]
    return _report(check, frames, bad, "{count} predictions are not one of " + str(allowed))


def _constants(check: Check, frames: _Frames) -> list[CheckFailure]:
    name = frames.columns.prediction
    if missing := frames.missing(check, name):
        return missing
    prediction = frames.prediction
    if check.scope == "KEY" and frames.per_moon:
        moon = frames.columns.moon
        distinct = prediction.groupby(moon, sort=True)[name].nunique(dropna=False)
        constant = distinct[distinct <= 1].index
        bad = prediction[prediction[moon].isin(constant)]
    else:
        column = prediction[name]
        constant = column.empty or (column == column.iloc[0]).all() or column.isna().all()
        bad = prediction if constant else prediction.head(0)
    failures = _report(check, frames, bad, "every prediction has the same value")
    return [dataclasses.replace(failure, ids=()) for failure in failures]


_JUDGES: dict[str, Callable[[Check, _Frames], list[CheckFailure]]] = {
    "COLUMNS_NAME": _columns_name,
    "NANS": _nans,
    "IDS": _ids,
    "MOONS": _moons,
    "VALUES_BETWEEN": _values_between,
    "VALUES_ALLOWED": _values_allowed,
    "CONSTANTS": _constants,
}

CHECK_FUNCTIONS = tuple(_JUDGES)
"""The check functions a competition may list, by the hub's names."""
