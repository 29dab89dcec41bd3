"""What an organizer does to a hub: register a competition from parquet files, or from
any data files and its own modules, mint setup tokens. The `crunch hub ...` commands and
the tests call these directly on the hub's root folder; no HTTP involved.

For the built-in formats, a data folder holds `X_train`, `y_train`, `X_test`,
`example_prediction` and optionally `y_test` (all `.parquet`); these form the public
release. A `hidden/` sub-folder with `X_test.parquet` and `y_test.parquet` stays on the
hub, for its own runs. An unstructured competition releases every file of its data folder
but those under `hidden/` (see `data_folder`), and brings the modules that run and score
its submissions (see `module_check`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub import data_folder, lookups, tokens
from crunch_cli.hub import runtimes as runtimes_module
from crunch_cli.hub.competition_modules import StoredModule, store_modules, stored_modules
from crunch_cli.hub.models import (
    Base,
    Check,
    Competition,
    CompetitionMetric,
    DataFile,
    Phase,
    Project,
    Round,
    User,
    utcnow,
)
from crunch_cli.hub.module_check import read_modules
from crunch_cli.hub.release_checks import Release, check_release
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore
from crunch_cli.runner.checks import CHECK_FUNCTIONS
from crunch_cli.runner.scoring import METRICS as SCORERS
from crunch_cli.runner.spec import BUILT_IN, Format

FORMATS = {built_in.label: format.value for format, built_in in BUILT_IN.items()}
METRICS = tuple(SCORERS)
ROUND_LENGTH = timedelta(days=365)
UNSTRUCTURED = "UNSTRUCTURED"
_Row = TypeVar("_Row", bound=Base)
DEFAULT_TARGET = "target"

HIDDEN_DIRECTORY = data_folder.HIDDEN_DIRECTORY

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclasses.dataclass(frozen=True)
class CompetitionLimits:
    """What a submission may weigh and do; defaults fit a laptop-sized competition.

    `runtimes` are those its runs may ask for (`cpu`, `gpu`); `run_cpus` the CPUs a Ray
    worker reserves for a run; `queue_timeout_seconds` how long a run may wait for a worker
    able to run it (a `gpu` run where no worker has a GPU) before it fails.
    """

    run_time_limit_seconds: int = 3600
    run_memory_limit_mb: int = 8192
    max_code_size: int = 50 * 1024 * 1024
    max_model_size: int = 5 * 1024 * 1024 * 1024
    submissions_per_day: int = 50
    run_cpus: int = 1
    queue_timeout_seconds: int = 3600
    runtimes: tuple[str, ...] = ("cpu",)


@dataclasses.dataclass(frozen=True)
class DataFileSummary:
    key: str
    name: str
    size: int
    sha256: str
    hidden: bool


@dataclasses.dataclass(frozen=True)
class CompetitionSummary:
    id: int
    name: str
    display_name: str
    format: str
    metric: str
    files: tuple[DataFileSummary, ...]
    modules: tuple[StoredModule, ...] = ()


def create_competition(
    settings: HubSettings,
    name: str,
    data_dir: Path,
    *,
    format: str = "timeseries",
    id_column: str = "id",
    moon_column: str | None = "moon",
    target_column: str | None = None,
    prediction_column: str | None = None,
    embargo: int = 0,
    metric: str | None = None,
    checks: list[dict[str, Any]] | None = None,
    display_name: str | None = None,
    limits: CompetitionLimits | None = None,
) -> CompetitionSummary:
    """Validate the data folder completely, then store its files and the competition.

    Nothing is written to the hub unless every file is present, readable, has the columns
    the competition's settings name (the target and prediction columns are inferred when
    not named) and agrees with the others (`release_checks`).
    """
    _check_name(name, "competition name")
    wire_format = _wire_format(format)
    if wire_format == "DAG":
        moon_column = None  # cross-sectional data has no time axis
    metric = _check_metric(metric or BUILT_IN[Format(wire_format)].metric)
    if embargo < 0:
        raise CrunchError(f"embargo must be 0 or more, not {embargo}", hint="fix --embargo")
    check_rows = _check_rows(checks if checks is not None else _default_checks(wire_format))
    release = check_release(
        Path(data_dir),
        id_column=id_column,
        moon_column=moon_column,
        target_column=target_column,
        prediction_column=prediction_column,
        metric=metric,
    )
    files = release.files
    features, splits = _describe(release)

    with HubStore(settings) as store:
        with store.session() as session:
            if session.scalars(select(Competition).where(Competition.name == name)).first():
                raise _name_taken(name)
        stored = [(key, path, hidden, *store.blobs.put_file(path)) for key, path, hidden in files]
        try:
            with store.session() as session:
                competition = _competition_row(
                    name,
                    display_name,
                    limits,
                    format=wire_format,
                    metric=metric,
                    embargo=embargo,
                    id_column=id_column,
                    moon_column=moon_column,
                    target_column=release.target_column,
                    prediction_column=release.prediction_column,
                    features=features,
                    splits=splits,
                    checks=check_rows,
                    data_files=[
                        DataFile(
                            key=key,
                            name=path.name,
                            blob_key=blob_key,
                            size=size,
                            sha256=sha256,
                            hidden=hidden,
                        )
                        for key, path, hidden, blob_key, size, sha256 in stored
                    ],
                )
                session.add(competition)
                session.flush()
                return _summary(competition)
        except IntegrityError as error:  # lost a race with another create of that name
            raise _name_taken(name) from error


def create_unstructured_competition(
    settings: HubSettings,
    name: str,
    data_dir: Path,
    modules_dir: Path,
    *,
    metrics: Sequence[str],
    target: str = DEFAULT_TARGET,
    lower_is_better: bool = False,
    display_name: str | None = None,
    limits: CompetitionLimits | None = None,
) -> CompetitionSummary:
    """Register a competition that runs and scores submissions with its own modules.

    The modules are checked (never run) and the data folder walked before anything is
    written; the first metric ranks the leaderboard, and `lower_is_better` says which way
    for every metric.
    """
    _check_name(name, "competition name")
    _check_name(target, "target name")
    metric_names = _check_metric_names(metrics)
    modules = read_modules(Path(modules_dir))
    files = data_folder.collect(Path(data_dir))

    with HubStore(settings) as store:
        with store.session() as session:
            if session.scalars(select(Competition).where(Competition.name == name)).first():
                raise _name_taken(name)
        stored = [(file, *_put_file(store, file.source)) for file in files]
        try:
            with store.session() as session:
                competition = _competition_row(
                    name,
                    display_name,
                    limits,
                    format=UNSTRUCTURED,
                    metric=metric_names[0],
                    id_column="id",
                    moon_column=None,
                    target_column=target,
                    prediction_column="prediction",
                    data_files=[
                        DataFile(
                            key=file.name,
                            name=file.name,
                            blob_key=blob_key,
                            size=size,
                            sha256=sha256,
                            hidden=file.hidden,
                        )
                        for file, blob_key, size, sha256 in stored
                    ],
                )
                session.add(competition)
                session.flush()
                session.add_all(
                    CompetitionMetric(
                        competition_id=competition.id,
                        position=position,
                        name=metric_name,
                        lower_is_better=lower_is_better,
                    )
                    for position, metric_name in enumerate(metric_names)
                )
                return _summary(competition, store_modules(store, session, competition.id, modules))
        except IntegrityError as error:  # lost a race with another create of that name
            raise _name_taken(name) from error


def replace_modules(
    settings: HubSettings, competition: str, modules_dir: Path
) -> tuple[StoredModule, ...]:
    """Make the modules of `modules_dir` the competition's only ones (a kind the folder
    lacks is removed), checked like at registration; returns them.
    """
    modules = read_modules(Path(modules_dir))
    with HubStore(settings) as store, store.session() as session:
        row = _find_competition(session, competition)
        if row.format != UNSTRUCTURED:
            raise CrunchError(
                f"competition {competition!r} is {row.format}: the hub runs and scores it "
                "with its own modules",
                hint="only competitions created with --format unstructured take modules",
            )
        return tuple(store_modules(store, session, row.id, modules))


def list_competitions(settings: HubSettings) -> list[CompetitionSummary]:
    with HubStore(settings) as store, store.session(write=False) as session:
        return [
            _summary(row, stored_modules(session, row.id))
            for row in session.scalars(select(Competition).order_by("id"))
        ]


def update_limits(
    settings: HubSettings,
    competition: str,
    *,
    runtimes: Sequence[str] | None = None,
    **changes: int,
) -> CompetitionLimits:
    """Change some of a competition's limits (names as in `CompetitionLimits`); returns
    them all, as they now stand.
    """
    fields = [field.name for field in dataclasses.fields(CompetitionLimits)]
    if unknown := sorted(set(changes) - set(fields)):
        raise CrunchError(
            f"unknown limit {', '.join(unknown)}", hint=f"use one of: {', '.join(fields)}"
        )
    with HubStore(settings) as store, store.session() as session:
        row = _find_competition(session, competition)
        for field, value in changes.items():
            setattr(row, field, value)
        if runtimes is not None:
            row.runtimes = list(check_runtimes(runtimes))
        values = {field: getattr(row, field) for field in fields}
        values["runtimes"] = tuple(values["runtimes"])
        return CompetitionLimits(**values)


def check_runtimes(names: Sequence[str]) -> tuple[str, ...]:
    """Runtimes as `runtimes.parse` reads them from `--runtimes` (`cpu`, `gpu`, at least
    one)."""
    return runtimes_module.parse(",".join(names))


def mint_setup_token(
    settings: HubSettings, competition: str, user_login: str, project_name: str
) -> str:
    """A one-time token for `crunch setup`; the user and project are made on first use."""
    with HubStore(settings) as store, store.session() as session:
        row = _find_competition(session, competition)
        return setup_token_for(session, row, user_login, project_name, settings.setup_token_ttl)


class ProjectExistsError(CrunchError):
    """An anonymous caller asked for a token of a project that already exists."""


def setup_token_for(
    session: Session,
    row: Competition,
    user_login: str,
    project_name: str,
    ttl: timedelta,
    *,
    admit_new: Callable[[], None] | None = None,
) -> str:
    """`mint_setup_token` inside a transaction the caller holds.

    `admit_new` marks an anonymous caller (the website's setup box): it may only create
    projects, since a token for an existing one is a takeover of it (those come from the
    organizer or the project's owner), and `admit_new()` runs before each creation, to
    refuse it by raising (the rate limit). Such a caller always inserts the project, so
    of two concurrent creations of one project the unique constraint refuses the second.
    """
    _check_name(user_login, "user name")
    _check_name(project_name, "project name")
    user = session.scalars(select(User).where(User.login == user_login)).one_or_none()
    project = None if user is None else lookups.project_named(session, row, user.id, project_name)
    if project is None:
        if admit_new is not None:
            admit_new()
        if user is None:
            user = _insert_or_find(
                session,
                User(login=user_login),
                lambda: session.scalars(select(User).where(User.login == user_login)).one(),
            )
        project = _insert_or_find(
            session,
            Project(competition_id=row.id, user_id=user.id, name=project_name),
            lambda: _existing_project(session, row, user, project_name, admit_new),
        )
    elif admit_new is not None:
        raise ProjectExistsError(f"project {user_login}/{project_name} already exists")
    _token, plain = tokens.mint_clone_token(session, project, ttl)
    return plain


def _insert_or_find(session: Session, new: _Row, existing: Callable[[], _Row]) -> _Row:
    """Insert `new`, or, when a concurrent transaction inserted its twin first, the twin.

    SQLite lets one writer through at a time, so it never gets there; on PostgreSQL both
    pass the look-up, the unique constraint stops the second, which waited for the first
    to commit and so finds its row.
    """
    try:
        with session.begin_nested():
            session.add(new)
        return new
    except IntegrityError:
        return existing()


def _existing_project(
    session: Session,
    row: Competition,
    user: User,
    name: str,
    admit_new: Callable[[], None] | None,
) -> Project:
    if admit_new is not None:
        raise ProjectExistsError(f"project {user.login}/{name} already exists")
    found = lookups.project_named(session, row, user.id, name)
    assert found is not None, "a unique violation without the row it collided with"
    return found


def _find_competition(session: Session, name: str) -> Competition:
    row = session.scalars(select(Competition).where(Competition.name == name)).one_or_none()
    if row is None:
        raise CrunchError(
            f"no competition named {name!r} on this hub",
            hint="run `crunch hub competition list` to see them",
        )
    return row


def _competition_row(
    name: str, display_name: str | None, limits: CompetitionLimits | None, **columns: Any
) -> Competition:
    """A new competition, open for one round from now on."""
    now = utcnow()
    values = dataclasses.asdict(limits or CompetitionLimits())
    values["runtimes"] = list(check_runtimes(values["runtimes"]))
    return Competition(
        name=name,
        display_name=display_name or name,
        **values,
        rounds=[
            Round(
                number=1,
                start=now,
                end=now + ROUND_LENGTH,
                phases=[Phase(type="SUBMISSION", start=now, end=now + ROUND_LENGTH)],
            )
        ],
        **columns,
    )


def _put_file(store: HubStore, path: Path) -> tuple[str, int, str]:
    try:
        return store.blobs.put_file(path)
    except OSError as error:
        raise CrunchError(
            f"cannot store {path}: {error.strerror or error}",
            hint="check that it is readable and the hub's folder writable; nothing was registered",
        ) from error


def _check_metric_names(names: Sequence[str]) -> list[str]:
    if not names:
        raise CrunchError(
            "an unstructured competition needs at least one metric",
            hint="pass --metric NAME (repeat it for more; the first ranks the leaderboard)",
        )
    for metric in names:
        _check_name(metric, "metric name")
    if len(set(names)) != len(names):
        raise CrunchError(
            f"a metric is named twice in {', '.join(names)}", hint="name each metric once"
        )
    return list(names)


def _summary(row: Competition, modules: Sequence[StoredModule] = ()) -> CompetitionSummary:
    return CompetitionSummary(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        format=row.format,
        metric=row.metric,
        files=tuple(
            DataFileSummary(item.key, item.name, item.size, item.sha256, item.hidden)
            for item in row.data_files
        ),
        modules=tuple(modules),
    )


def _name_taken(name: str) -> CrunchError:
    return CrunchError(
        f"a competition named {name!r} already exists on this hub",
        hint="pick another name (see `crunch hub competition list`)",
    )


def _check_name(value: str, what: str) -> None:
    if not _NAME.match(value) or value.isdigit():
        raise CrunchError(
            f"invalid {what} {value!r}",
            hint="use letters, digits, '-', '_' or '.', starting with a letter or digit",
        )


def _wire_format(value: str) -> str:
    lowered = value.lower()
    if lowered in FORMATS:
        return FORMATS[lowered]
    if value.upper() in FORMATS.values():
        return value.upper()
    raise CrunchError(
        f"unknown competition format {value!r}", hint=f"use one of: {', '.join(FORMATS)}"
    )


def _check_metric(value: str) -> str:
    if value not in METRICS:
        raise CrunchError(f"unknown metric {value!r}", hint=f"use one of: {', '.join(METRICS)}")
    return value


def _default_checks(wire_format: str) -> list[dict[str, Any]]:
    return [{"function": function} for function in BUILT_IN[Format(wire_format)].checks]


def _check_rows(checks: list[dict[str, Any]]) -> list[Check]:
    rows = []
    for order, check in enumerate(checks):
        function = str(check.get("function", "")).upper()
        if function not in CHECK_FUNCTIONS:
            raise CrunchError(
                f"unknown check {check.get('function')!r}",
                hint=f"use one of: {', '.join(CHECK_FUNCTIONS)}",
            )
        rows.append(
            Check(
                function=function,
                scope=str(check.get("scope", "ROOT")).upper(),
                order=int(check.get("order", order)),
                parameters=dict(check.get("parameters") or {}),
            )
        )
    return rows


def _describe(release: Release) -> tuple[list[str], list[dict[str, Any]]]:
    """The feature names (X_train's other columns) and the moon splits of the release."""
    import pyarrow.compute
    import pyarrow.parquet

    paths = {key: path for key, path, hidden in release.files if not hidden}
    keys = set(release.keys)
    features = [
        name for name in pyarrow.parquet.read_schema(paths["X_train"]).names if name not in keys
    ]
    splits: list[dict[str, Any]] = []
    if release.moon_column:
        for key, group in (("X_train", "TRAIN"), ("X_test", "TEST")):
            moons = pyarrow.parquet.read_table(paths[key], columns=[release.moon_column])
            unique = pyarrow.compute.unique(moons.column(0)).to_pylist()
            splits += [{"key": moon, "group": group, "reduced": None} for moon in sorted(unique)]
    return features, splits
