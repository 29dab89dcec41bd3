"""What a run needs and what it gives back: plain data, shared by `crunch test` and the hub.

Nothing here knows about a workspace or a terminal, so the hub can build a `RunSpec` for a
submission folder exactly as `crunch test` builds one for a workspace.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from crunch_cli.runner.checks import Check, CheckFailure

ExitReason = Literal["error", "timeout", "memory", "processes", "disk", "terminated", "checks"]
"""Why a run failed; "checks": its predictions failed the checks or could not be scored."""
Sandbox = Literal["required", "preferred", "off"]
MIB = 1 << 20
"""Memory limits are counted in MiB, like the hub's `runMemoryLimitMb`."""


class Format(str, enum.Enum):
    """How the user's functions are called; the values are the hub's format names."""

    TIMESERIES = "TIMESERIES"
    CROSS_SECTIONAL = "DAG"
    STREAM = "STREAM"
    UNSTRUCTURED = "UNSTRUCTURED"  # the competition's own runner.py and scoring.py

    @classmethod
    def parse(cls, value: str) -> Format:
        from crunch_cli.errors import RunnerError

        try:
            return cls(value.upper())
        except ValueError:
            raise RunnerError(
                f"competition format {value!r} cannot be run locally",
                hint="crunch test runs TIMESERIES, DAG (cross-sectional), STREAM and "
                "UNSTRUCTURED (the competition's own modules) competitions",
            ) from None


@dataclasses.dataclass(frozen=True)
class BuiltIn:
    """A format crunch runs with its own code: its name on the command line, the metric it
    is scored with unless the organizer names another, and its default prediction checks."""

    label: str
    metric: str
    checks: tuple[str, ...]


BUILT_IN: dict[Format, BuiltIn] = {
    Format.TIMESERIES: BuiltIn(
        "timeseries", "spearman", ("COLUMNS_NAME", "NANS", "IDS", "MOONS", "CONSTANTS")
    ),
    Format.CROSS_SECTIONAL: BuiltIn("cross-sectional", "accuracy", ("COLUMNS_NAME", "NANS", "IDS")),
    Format.STREAM: BuiltIn("stream", "rmse", ("COLUMNS_NAME", "NANS", "IDS", "MOONS")),
}
"""The one home of the built-in formats' names and defaults (the hub, `crunch test`, the
CLI and the demo read them here)."""


def format_label(value: str) -> str:
    """How a format is shown to people: `cross-sectional`, not the hub's wire name `DAG`."""
    try:
        known = Format(value.upper())
    except ValueError:
        return value
    return BUILT_IN[known].label if known in BUILT_IN else known.value.lower()


@dataclasses.dataclass(frozen=True)
class ColumnNames:
    """The data release's column names; `moon` is None for cross-sectional data."""

    id: str = "id"
    moon: str | None = "moon"
    target: str = "target"
    prediction: str = "prediction"

    @classmethod
    def from_release(cls, names: Mapping[str, Any]) -> ColumnNames:
        """Read the hub's `columnNames`, which names the target `side` and the output `output`."""
        return cls(
            id=names.get("id") or "id",
            moon=names.get("moon"),
            target=names.get("target") or names.get("side") or "target",
            prediction=names.get("prediction") or names.get("output") or "prediction",
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def keys(self) -> list[str]:
        """The columns that identify a prediction row."""
        return [self.id] if self.moon is None else [self.id, self.moon]


@dataclasses.dataclass(frozen=True)
class DataFiles:
    """Parquet files the child reads itself; the parent never loads the training data."""

    x_train: Path
    y_train: Path
    x_test: Path


ModuleRole = Literal["run", "execute", "score", "load"]


@dataclasses.dataclass(frozen=True)
class ModuleJob:
    """What a process of a module competition does (crunch_cli.modules): the runner's
    `run` (the orchestrator), one `execute` command of the participant's code, the scoring
    module's `check` and `score`, or the runner's `load_data` (for a notebook).

    `modules` maps a kind (`runner`, `scoring`, ...) to its source file. `context` holds the
    values the runner's contexts expose (crunch-cli's names); `parameters` are the command's,
    as JSON. `fuse` arms the data fuse of an `execute`. `metrics` are the competition's, as
    `score` receives them.
    """

    role: ModuleRole
    modules: Mapping[str, Path]
    data_directory: Path
    prediction_directory: Path
    command: str | None = None
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    fuse: bool = True
    metrics: tuple[Mapping[str, Any], ...] = ()

    def paths(self) -> list[Path]:
        """What the process reads; the prediction folder is writable where the spec says."""
        return [*self.modules.values(), self.data_directory, self.prediction_directory]

    def moved(self, move: Callable[[Path], Path]) -> ModuleJob:
        return dataclasses.replace(
            self,
            modules={kind: move(path) for kind, path in self.modules.items()},
            data_directory=move(self.data_directory),
            prediction_directory=move(self.prediction_directory),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "modules": {kind: str(path) for kind, path in self.modules.items()},
            "dataDirectory": str(self.data_directory),
            "predictionDirectory": str(self.prediction_directory),
            "command": self.command,
            "parameters": dict(self.parameters),
            "context": dict(self.context),
            "fuse": self.fuse,
            "metrics": list(self.metrics),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ModuleJob:
        return cls(
            role=value["role"],
            modules={kind: Path(path) for kind, path in value["modules"].items()},
            data_directory=Path(value["dataDirectory"]),
            prediction_directory=Path(value["predictionDirectory"]),
            command=value["command"],
            parameters=value["parameters"],
            context=value["context"],
            fuse=value["fuse"],
            metrics=tuple(value["metrics"]),
        )


@dataclasses.dataclass(frozen=True)
class Judging:
    """Checks and scoring for the child to run on its predictions while they are in memory.

    Judging there saves the parent a second import of pandas and a second read of the
    data. A caller that must not trust the child (the hub) leaves it out and calls
    `judge.judge` on the predictions file itself, with its own `judge.Reference`.
    `checks=None` skips the checks; `y_test=None` skips the score.
    """

    checks: tuple[Check, ...] | None = ()
    metric: str = "spearman"
    y_test: Path | None = None

    def to_json(self) -> dict[str, Any]:
        checks = None if self.checks is None else [dataclasses.asdict(c) for c in self.checks]
        y_test = None if self.y_test is None else str(self.y_test)
        return {"checks": checks, "metric": self.metric, "yTest": y_test}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Judging:
        from crunch_cli.runner.checks import Check

        checks = value["checks"]
        return cls(
            checks=None if checks is None else tuple(Check.from_json(check) for check in checks),
            metric=value["metric"],
            y_test=None if value["yTest"] is None else Path(value["yTest"]),
        )


@dataclasses.dataclass(frozen=True)
class Score:
    """A local score, or why there is none (`value` None, `error` set)."""

    metric: str
    value: float | None
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything one run of train()/infer() needs.

    `timeout` bounds each phase (importing the code, each train() call, each infer() call);
    `total_timeout` bounds the whole run. `memory_limit` is in bytes, on the RSS of the
    child and its own children. `network=False` cuts the child off the network.
    `has_gpu=None` means: detect it. `python` is the interpreter of the child (default: this
    one); the hub points it at an environment built for the submission's requirements.

    `sandbox` says whether bubblewrap must confine the child ("required": the run fails
    without it), should when it can ("preferred") or must not ("off").
    `sandbox_view` moves host paths (folders or files) to other places inside the sandbox;
    the others appear at their own path. `hidden_paths` are folders inside the visible ones
    that the code must not see (an empty folder covers them); `private_paths` must not be
    reachable at all: the run fails rather than show them. The `max_*` limits and
    `cpu_time_limit` bound processes, open files, bytes written (per file, in the writable
    folders, and the size of /tmp) and CPU seconds of each process.
    """

    main_file: Path
    model_dir: Path
    data: DataFiles | None
    format: Format
    prediction_path: Path
    columns: ColumnNames = ColumnNames()
    working_directory: Path | None = None
    code_directory: Path | None = None
    embargo: int = 0
    number_of_features: int | None = None
    train_frequency: int = 1
    force_first_train: bool = True
    force_train: bool = False
    timeout: float | None = None
    total_timeout: float | None = None
    memory_limit: int | None = None
    network: bool = False
    has_gpu: bool | None = None
    determinism_check: bool = False
    judging: Judging | None = None
    python: Path | None = None
    sandbox: Sandbox = "preferred"
    sandbox_view: Mapping[Path, Path] = dataclasses.field(default_factory=dict)
    hidden_paths: tuple[Path, ...] = ()
    private_paths: tuple[Path, ...] = ()
    max_processes: int | None = None
    max_open_files: int | None = None
    max_written_bytes: int | None = None
    cpu_time_limit: float | None = None
    modules: ModuleJob | None = None

    @property
    def data_files(self) -> DataFiles:
        """The parquet files of a built-in format's run (a module run reads a folder)."""
        if self.data is None:
            raise ValueError("a module run has a data folder, not data files")
        return self.data

    def to_json(self) -> dict[str, Any]:
        """The spec as the child reads it from its job file (limits stay with the parent)."""
        return {
            "mainFile": str(self.main_file),
            "modelDir": str(self.model_dir),
            "data": None
            if self.data is None
            else {key: str(path) for key, path in dataclasses.asdict(self.data).items()},
            "format": self.format.value,
            "predictionPath": str(self.prediction_path),
            "columns": self.columns.to_json(),
            "workingDirectory": str(self.working_directory or self.main_file.parent),
            "codeDirectory": str(self.code_directory or self.main_file.parent),
            "embargo": self.embargo,
            "numberOfFeatures": self.number_of_features,
            "trainFrequency": self.train_frequency,
            "forceFirstTrain": self.force_first_train,
            "forceTrain": self.force_train,
            "hasGpu": self.has_gpu,
            "determinismCheck": self.determinism_check,
            "judging": None if self.judging is None else self.judging.to_json(),
            "modules": None if self.modules is None else self.modules.to_json(),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> RunSpec:
        return cls(
            main_file=Path(value["mainFile"]),
            model_dir=Path(value["modelDir"]),
            data=None
            if value["data"] is None
            else DataFiles(**{key: Path(path) for key, path in value["data"].items()}),
            format=Format(value["format"]),
            prediction_path=Path(value["predictionPath"]),
            columns=ColumnNames(**value["columns"]),
            working_directory=Path(value["workingDirectory"]),
            code_directory=Path(value["codeDirectory"]),
            embargo=value["embargo"],
            number_of_features=value["numberOfFeatures"],
            train_frequency=value["trainFrequency"],
            force_first_train=value["forceFirstTrain"],
            force_train=value["forceTrain"],
            has_gpu=value["hasGpu"],
            determinism_check=value["determinismCheck"],
            judging=None if value["judging"] is None else Judging.from_json(value["judging"]),
            modules=None if value["modules"] is None else ModuleJob.from_json(value["modules"]),
        )


MAX_DETAILS_SHOWN = 6


def metric_details(metric: Mapping[str, Any]) -> str:
    """A scored metric's details as `key=value` words, the first few of a long list (a
    timeseries run has one per moon): how every front-end shows them in a line."""
    details = list(metric.get("details") or ())
    words = [f"{d.get('key')}={_number(d.get('value'))}" for d in details[:MAX_DETAILS_SHOWN]]
    if len(details) > MAX_DETAILS_SHOWN:
        words.append(f"(+{len(details) - MAX_DETAILS_SHOWN} more)")
    return " ".join(words)


def _number(value: Any) -> str:
    return str(round(value, 6)) if isinstance(value, float) else str(value)


@dataclasses.dataclass
class PhaseTiming:
    calls: int = 0
    seconds: float = 0.0


@dataclasses.dataclass
class RunResult:
    """How a run ended. `exit_reason` is None on success; `error` says why otherwise.

    `peak_rss` is the child tree's and `parent_peak_rss` the parent's, both sampled every
    0.1 s while the child runs; `deterministic` is None when the check did not run;
    `failures` and `score` come from `RunSpec.judging`.
    """

    predictions_path: Path | None
    exit_reason: ExitReason | None
    error: str | None
    phases: dict[str, PhaseTiming]
    wall_seconds: float
    peak_rss: int
    parent_peak_rss: int
    sandbox: str
    network: str
    has_gpu: bool
    exit_code: int | None
    deterministic: bool | None = None
    determinism_difference: str | None = None
    failures: list[CheckFailure] = dataclasses.field(default_factory=list)
    score: Score | None = None
    metrics: list[dict[str, Any]] | None = None  # a module competition's scoring
    skipped_trains: int = 0  # train() calls left out: their data had not changed

    @property
    def ok(self) -> bool:
        return self.exit_reason is None

    def raise_for_failure(self) -> None:
        """Turn a failed run into the matching `RunnerError`, for callers that stop on it."""
        from crunch_cli.errors import (
            LimitExceededError,
            PredictionCheckError,
            RunnerError,
            UserCodeError,
        )

        if self.exit_reason is None:
            return
        message = self.error or "the run failed"
        if self.exit_reason in ("timeout", "memory"):
            option = "--timeout" if self.exit_reason == "timeout" else "--memory-limit"
            raise LimitExceededError(
                message, hint=f"make the code lighter, or raise the limit with {option}"
            )
        if self.exit_reason in ("processes", "disk"):
            raise LimitExceededError(message, hint="the hub applies the same limit")
        if self.exit_reason == "terminated":
            raise RunnerError(message)
        if self.exit_reason == "checks":
            raise PredictionCheckError(message, hint="fix infer() so its output passes the checks")
        raise UserCodeError(message, hint="fix the error shown above, then run `crunch test` again")
