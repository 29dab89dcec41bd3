"""What one run needs, as plain data that crosses a process or machine boundary as JSON.

The hub builds a `Job` from its database (`build`); whoever executes it (`perform`, on the
hub or on a Ray worker) needs nothing else: no database, no access to the hub's disk. Every
file is named by its relative path in the run, its size and its sha256, plus where to get
it: the hub's blob key (for the hub's own pool, which reads its store directly) and, for a
worker elsewhere, a signed URL that expires. Whoever uses the bytes checks their sha256
first, wherever they came from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

CPU, GPU = "cpu", "gpu"
RUNTIMES = (CPU, GPU)
TERMINATED_MESSAGE = "the run was terminated"
# A run whose worker was lost goes back to the queue once; lost again, it fails.
MAX_ATTEMPTS = 2


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a run ended, as its executor reports it and the hub records it."""

    success: bool
    exit_reason: str | None = None
    error_message: str | None = None
    exit_code: int | None = None
    score: float | None = None
    metrics: list[dict[str, Any]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class JobFile:
    """One file of the run: `path` is relative to the folder it is laid in."""

    path: str
    size: int
    sha256: str
    key: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> JobFile:
        return cls(
            path=str(value["path"]),
            size=int(value["size"]),
            sha256=str(value["sha256"]),
            key=str(value["key"]),
            url=None if value.get("url") is None else str(value["url"]),
        )


@dataclasses.dataclass(frozen=True)
class Limits:
    """The limits of one run: the competition's (`cpus` is what a worker reserves for it)
    and the hub's own bounds on processes, open files and bytes written, which the hub
    decides for every machine its runs execute on."""

    time_seconds: int
    memory_mb: int
    max_model_size: int
    max_processes: int
    max_open_files: int
    min_written_bytes: int
    cpus: int = 1


@dataclasses.dataclass(frozen=True)
class Job:
    """A claimed run, ready to execute anywhere (see the module docstring).

    `code` holds the submission's files at their workspace paths (model files under
    `model_directory`); `requirements` is its requirements.txt, read (and verified) by the
    hub, which picks the Python it runs with. `modules` holds an organizer's modules as
    `<kind>.py`; empty: the built-in modules of `format` run, judging as `judging`
    (`Judging.to_json()`) says.
    `released` is the data the submission sees, `hidden` what only the scoring sees, laid
    over it. `metrics` are the competition's, as the scoring module receives them.
    """

    run_id: int
    attempt: int
    submission_number: int
    runtime: str
    code: tuple[JobFile, ...]
    main_file: str
    model_directory: str
    requirements: str | None
    modules: tuple[JobFile, ...]
    released: tuple[JobFile, ...]
    hidden: tuple[JobFile, ...]
    metrics: tuple[Mapping[str, Any], ...]
    judging: Mapping[str, Any] | None
    format: str
    columns: Mapping[str, Any]
    embargo: int
    number_of_features: int
    train_frequency: int
    force_first_train: bool
    limits: Limits

    def to_json(self) -> dict[str, Any]:
        value = dataclasses.asdict(self)
        for name in ("code", "modules", "released", "hidden"):
            value[name] = [item.to_json() for item in getattr(self, name)]
        value["metrics"] = [dict(metric) for metric in self.metrics]
        return value

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Job:
        def files(name: str) -> tuple[JobFile, ...]:
            return tuple(JobFile.from_json(item) for item in value[name])

        return cls(
            run_id=int(value["run_id"]),
            attempt=int(value["attempt"]),
            submission_number=int(value["submission_number"]),
            runtime=str(value["runtime"]),
            code=files("code"),
            main_file=str(value["main_file"]),
            model_directory=str(value["model_directory"]),
            requirements=None if value["requirements"] is None else str(value["requirements"]),
            modules=files("modules"),
            released=files("released"),
            hidden=files("hidden"),
            metrics=tuple(dict(metric) for metric in value["metrics"]),
            judging=None if value["judging"] is None else dict(value["judging"]),
            format=str(value["format"]),
            columns=dict(value["columns"]),
            embargo=int(value["embargo"]),
            number_of_features=int(value["number_of_features"]),
            train_frequency=int(value["train_frequency"]),
            force_first_train=bool(value["force_first_train"]),
            limits=Limits(**value["limits"]),
        )

    @property
    def module_kinds(self) -> dict[str, str]:
        """kind → sha256 of the organizer's modules the run uses."""
        return {item.path.removesuffix(".py"): item.sha256 for item in self.modules}
