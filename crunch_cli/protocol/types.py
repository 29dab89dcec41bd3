"""The values exchanged with competition modules, and the checks on what they return.

Organizer functions receive targets, metrics and projects, and return scores, rankings,
similarities and rewards. The classes keep the constructors of crunch-cli 13.0.1 (same
fields, same order) because organizer code builds them positionally, e.g.
`RankedProject(project.id, rank, reward_rank)`. Each converts to and from the hub's JSON
(`to_dict()` / `from_dict()`, camelCase keys), the shape the hub API stores and serves.

What an organizer function returns is checked here (`validate_scores`, `validate_ranking`,
`validate_rewards`) before anyone trusts it: a wrong return type should fail the run with a
message naming the function and the bad entry, not corrupt a leaderboard later.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import types
import typing
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from itertools import groupby
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

__all__ = [
    "ComparedSimilarity",
    "File",
    "InvalidResultError",
    "Metric",
    "ParticipantVisibleError",
    "PhaseType",
    "RankPass",
    "RankableProject",
    "RankableProjectMetric",
    "RankedProject",
    "RewardableProject",
    "RewardableProjectMetric",
    "RewardedProject",
    "ScoredMetric",
    "ScoredMetricDetail",
    "SubmissionType",
    "Target",
    "Unit",
    "group_metrics_by_target",
    "validate_ranking",
    "validate_rewards",
    "validate_scores",
]

_J = TypeVar("_J", bound="JsonDataclass")
_P = TypeVar("_P")

# Files whose content `File.from_local` lets organizers read (`File.text`): the submission
# checks look at requirements files and notes, never at model weights.
TEXT_FILE_EXTENSIONS = (".txt", ".md")


# --------------------------------------------------------------------------------------------
# JSON


def _camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _encode(value: Any) -> Any:
    if isinstance(value, JsonDataclass):
        return value.to_dict()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(kind: Any, value: Any) -> Any:
    """Turn a JSON value into `kind`, coercing scalars the way the hub's numbers arrive
    (an integer where a float is declared, a string where an int is)."""
    origin = typing.get_origin(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(kind) if option is not type(None)]
        if value is None and len(options) < len(typing.get_args(kind)):
            return None
        for option in options:
            if isinstance(option, type) and type(value) is option:
                return value
        errors: list[str] = []
        for option in options:
            try:
                return _decode(option, value)
            except (TypeError, ValueError) as error:
                errors.append(str(error))
        raise ValueError(f"cannot read {value!r} as {kind}: {'; '.join(errors)}")
    if origin is list:
        (item_kind,) = typing.get_args(kind)
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return [_decode(item_kind, item) for item in value]
    if isinstance(kind, type) and issubclass(kind, JsonDataclass):
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object for {kind.__name__}, got {type(value).__name__}")
        return kind.from_dict(value)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if kind in (int, float, str, bool):
        if value is None:
            raise TypeError(f"expected {kind.__name__}, got null")
        return kind(value)
    return value


class JsonDataclass:
    """camelCase JSON for the dataclasses below, as the hub API stores and serves them."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: one camelCase key per field, nested values converted too."""
        return {
            _camel_case(item.name): _encode(getattr(self, item.name))
            for item in dataclasses.fields(self)  # type: ignore[arg-type]  # subclasses are dataclasses
        }

    @classmethod
    def from_dict(cls: type[_J], payload: Mapping[str, Any]) -> _J:
        """Read a JSON object; keys may be camelCase or the field names, unknown keys are
        ignored (a newer hub may send more), a missing field without default is an error."""
        hints = typing.get_type_hints(cls)
        arguments: dict[str, Any] = {}
        for item in dataclasses.fields(cls):  # type: ignore[arg-type]  # subclasses are dataclasses
            if not item.init:
                continue
            for key in (_camel_case(item.name), item.name):
                if key in payload:
                    arguments[item.name] = _decode(hints[item.name], payload[key])
                    break
            else:
                if (
                    item.default is dataclasses.MISSING
                    and item.default_factory is dataclasses.MISSING
                ):
                    raise ValueError(f"{cls.__name__}: field {_camel_case(item.name)!r} is missing")
        return cls(**arguments)

    @classmethod
    def from_dict_array(cls: type[_J], payloads: Iterable[Mapping[str, Any]]) -> list[_J]:
        return [cls.from_dict(payload) for payload in payloads]


class _Link(Generic[_P]):
    """A link to the object a value belongs to (a metric's target), set after construction.

    It is deliberately not a dataclass field: it is neither compared, printed nor sent as
    JSON, and the constructor keeps 13.0.1's positional fields.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._owner = owner.__name__
        self._name = name
        self._key = f"_link_{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> _Link[_P]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> _P: ...

    def __get__(self, instance: object | None, owner: type) -> _Link[_P] | _P:
        if instance is None:
            return self
        try:
            value: _P = vars(instance)[self._key]
        except KeyError:
            raise AttributeError(f"{self._owner}.{self._name} is not set") from None
        return value

    def __set__(self, instance: object, value: _P) -> None:
        vars(instance)[self._key] = value


class _OpenEnum(Enum):
    """An enum that accepts values it does not know: a newer hub may add a phase type, and
    reading it must not fail the whole response. Unknown values become unlisted members."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        member = object.__new__(cls)
        member._name_ = str(value)
        member._value_ = value
        cls._value2member_map_[value] = member
        return member

    def __repr__(self) -> str:
        return self.name


# --------------------------------------------------------------------------------------------
# The competition: targets, metrics, phases


class PhaseType(_OpenEnum):
    SUBMISSION = "SUBMISSION"
    OUT_OF_SAMPLE = "OUT_OF_SAMPLE"

    def slug(self) -> str:
        """The form used in URLs: `submission`, `out-of-sample`."""
        return self.name.lower().replace("_", "-")

    def pretty(self) -> str:
        if self is PhaseType.OUT_OF_SAMPLE:
            return "Out-of-Sample"
        return self.name.replace("_", " ").title()

    def first_chain_height(self) -> int:
        """The chain height of the first run of a phase: an out-of-sample run continues the
        submission run (height 1), so its chain starts at 2."""
        return 2 if self is PhaseType.OUT_OF_SAMPLE else 1


class SubmissionType(_OpenEnum):
    CODE = "CODE"
    NOTEBOOK = "NOTEBOOK"
    PREDICTION = "PREDICTION"


@dataclass(frozen=True)
class Unit(JsonDataclass):
    """How a metric's value is displayed: `prefix`, rounding to `scale` digits, `suffix`."""

    prefix: str | None
    scale: int
    suffix: str | None

    def format_value(self, value: float) -> str:
        shown = round(value, self.scale) if self.scale else int(value)
        return f"{self.prefix or ''}{shown}{self.suffix or ''}"


@dataclass
class Target(JsonDataclass):
    """What participants predict; a competition has one or more, each with its metrics."""

    id: int
    name: str
    display_name: str
    virtual: bool
    primary: bool


@dataclass
class Metric(JsonDataclass):
    """One way a target is scored. `metric.target` is the target it belongs to."""

    id: int
    name: str
    display_name: str
    unit: Unit
    weight: int
    score: bool
    multiplier: float

    # Not annotated, so not a dataclass field (see _Link).
    target = _Link[Target]()


def group_metrics_by_target(metrics: Iterable[Metric]) -> list[tuple[Target, list[Metric]]]:
    """`target_and_metrics` as the scoring functions receive it: pairs ordered by target id."""
    ordered = sorted(metrics, key=lambda metric: metric.target.id)
    return [(target, list(group)) for target, group in groupby(ordered, key=lambda m: m.target)]


# --------------------------------------------------------------------------------------------
# Scoring


class ParticipantVisibleError(Exception):
    """An error whose message the participant may see (an invalid prediction, a rejected
    submission). Any other error is the organizer's, and stays out of participants' logs."""


@dataclass
class ScoredMetricDetail(JsonDataclass):
    """One part of a score, e.g. the score of one region; `reduced` marks the ones that were
    aggregated into the metric's value."""

    key: str | int
    value: float
    reduced: bool


@dataclass
class ScoredMetric(JsonDataclass):
    """The result of one metric: its value and optional details."""

    value: float | None
    details: list[ScoredMetricDetail] = field(default_factory=list)


class InvalidResultError(ValueError):
    """An organizer function returned something the protocol does not allow."""


def validate_scores(results: object, metrics: Collection[Metric]) -> dict[int, ScoredMetric]:
    """Check what `score()` returned: a dict from metric ids of `metrics` to `ScoredMetric`s
    whose `value` is a float (numpy's float64 is one). Metrics may be left out."""
    if not isinstance(results, dict):
        raise InvalidResultError(
            f"score() must return a dict of metric id to ScoredMetric, not {_kind(results)}"
        )

    known = {metric.id for metric in metrics}
    for metric_id, scored in results.items():
        if metric_id not in known:
            raise InvalidResultError(
                f"score() returned metric id {metric_id!r}, which is not a metric of the "
                f"competition (known: {', '.join(map(str, sorted(known))) or 'none'})"
            )
        if not isinstance(scored, ScoredMetric):
            raise InvalidResultError(
                f"score() returned {_kind(scored)} for metric {metric_id}, not a ScoredMetric"
            )
        if not isinstance(scored.value, float):
            raise InvalidResultError(
                f"score() returned a value of type {_kind(scored.value)} for metric "
                f"{metric_id}, not a float"
            )
    return results


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


# --------------------------------------------------------------------------------------------
# Leaderboard


@dataclass
class RankableProjectMetric(JsonDataclass):
    id: int
    score: float


@dataclass
class RankableProject(JsonDataclass):
    """A project to rank, with its scores on the target's metrics."""

    id: float | None
    group: str
    rewardable: bool
    metrics: list[RankableProjectMetric] = field(default_factory=list)

    def get_metric(self, id: int) -> RankableProjectMetric | None:
        return next((metric for metric in self.metrics if metric.id == id), None)


class RankPass(Enum):
    """`rank()` runs twice: before duplicates are removed, then for the final leaderboard."""

    PRE_DUPLICATE = "PRE_DUPLICATE"
    FINAL = "FINAL"


@dataclass
class RankedProject(JsonDataclass):
    id: int
    rank: int
    reward_rank: float | int | None


@dataclass
class ComparedSimilarity(JsonDataclass):
    """How similar the predictions of two projects are on a target (duplicate detection)."""

    left_id: int
    right_id: int
    target_id: int
    value: float


def validate_ranking(ranked: object, projects: Iterable[RankableProject]) -> list[RankedProject]:
    """Check what `rank()` returned: every project exactly once, no rank given twice."""
    items = _list_of(ranked, RankedProject, "rank()")
    _same_ids("rank()", [item.id for item in items], projects)
    ranks = [item.rank for item in items]
    if len(ranks) != len(set(ranks)):
        raise InvalidResultError("rank() gave the same rank to two projects")
    return items


# --------------------------------------------------------------------------------------------
# Reward


@dataclass
class RewardableProjectMetric(JsonDataclass):
    id: int
    score: float


@dataclass
class RewardableProject(JsonDataclass):
    """A project eligible for a bounty, with its scores on the target's metrics."""

    id: float | None
    group: str
    rewardable: bool
    metrics: list[RewardableProjectMetric] = field(default_factory=list)

    def get_metric(self, id: int) -> RewardableProjectMetric | None:
        return next((metric for metric in self.metrics if metric.id == id), None)


@dataclass
class RewardedProject(JsonDataclass):
    id: int
    amount: float | int | None


def validate_rewards(
    rewarded: object, projects: Iterable[RewardableProject]
) -> list[RewardedProject]:
    """Check what `compute_bounties()` returned: every project exactly once."""
    items = _list_of(rewarded, RewardedProject, "compute_bounties()")
    _same_ids("compute_bounties()", [item.id for item in items], projects)
    return items


_Item = TypeVar("_Item")


def _list_of(value: object, kind: type[_Item], function: str) -> list[_Item]:
    if not isinstance(value, list):
        raise InvalidResultError(
            f"{function} must return a list of {kind.__name__}, not {_kind(value)}"
        )
    for item in value:
        if not isinstance(item, kind):
            raise InvalidResultError(
                f"{function} returned {_kind(item)} in its list, not a {kind.__name__}"
            )
    return typing.cast(list[_Item], value)


def _same_ids(
    function: str,
    returned: list[int],
    projects: Iterable[RankableProject] | Iterable[RewardableProject],
) -> None:
    if len(returned) != len(set(returned)):
        raise InvalidResultError(f"{function} listed a project twice")
    expected = {project.id for project in projects}
    if set(returned) != expected:
        missing = sorted(map(str, expected - set(returned)))
        extra = sorted(map(str, set(returned) - expected))
        raise InvalidResultError(
            f"{function} must list each given project once: "
            f"missing [{', '.join(missing)}], unknown [{', '.join(extra)}]"
        )


# --------------------------------------------------------------------------------------------
# Submission


@dataclass(frozen=True)
class File(JsonDataclass):
    """A file of a submission (code or model), as `submission.py`'s `check` sees it.

    `uri` is where the content can be read (a local path or an http(s) URL), or None when
    the organizer is not given the content (anything but text files).
    """

    path: str
    uri: str | None
    size: int

    # Submission paths always use forward slashes, whatever the platform reading them.
    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    @cached_property
    def text(self) -> str | None:
        """The content, read on first access (most checks only look at names and sizes)."""
        if not self.uri:
            return None
        if re.match(r"https?:", self.uri):
            # Only crunch_cli.api talks HTTP; imported here so that loading a module stays light.
            from crunch_cli.api.client import make_session

            with make_session() as session:
                response = session.get(self.uri, timeout=60)
                response.raise_for_status()
                return response.text
        with open(self.uri, encoding="utf-8") as handle:
            return handle.read()

    @classmethod
    def from_local(cls, path: str, name: str) -> File:
        """The file at `path`, listed as `name`; only text files get a readable `uri`."""
        local = Path(path)
        readable = local.suffix in TEXT_FILE_EXTENSIONS
        return cls(name, uri=path if readable else None, size=local.stat().st_size)
