"""The hub's side of a run: read a claimed run from the database into a plain `Job`.

Everything a run needs is read here, once, before it starts: the submission's files, the
competition's modules and data, its metrics, checks and limits. Nothing is downloaded or
copied: files are named by key and sha256 (and, for a worker elsewhere, a signed URL made
by the store, which any store can give: a hub-signed `/blobs/` URL on the folder store, a
presigned URL straight to the bucket on S3).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from crunch_cli.hub import metrics, views
from crunch_cli.hub.execution.job import Job, JobFile, Limits
from crunch_cli.hub.models import Competition, CompetitionModule, DataFile, Run
from crunch_cli.hub.release_checks import HIDDEN_FILES
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.submissions import MAX_REQUIREMENTS_SIZE, REQUIREMENTS_FILE, workspace_path
from crunch_cli.runner.checks import Check
from crunch_cli.runner.spec import Format, Judging

# A blob's key → a URL a worker may GET it from (None: the worker reads the hub's store).
UrlFor = Callable[[str], str]


@dataclasses.dataclass(frozen=True)
class Bounds:
    """The hub's own limits on every run: processes, open files, and the least a run may
    write whatever its model size."""

    max_processes: int
    max_open_files: int
    min_written_bytes: int


def load_job(store: HubStore, run_id: int, bounds: Bounds, url_for: UrlFor | None = None) -> Job:
    """The claimed run `run_id`, as a job; `url_for` adds a download URL to every file."""

    def file(path: str, key: str, size: int, sha256: str) -> JobFile:
        return JobFile(path, size, sha256, key, None if url_for is None else url_for(key))

    with store.session(write=False) as session:
        row = session.get(Run, run_id)
        assert row is not None
        submission = row.submission
        competition: Competition = submission.project.competition
        code = tuple(
            file(workspace_path(submission, item), item.blob_key, item.size, item.sha256)
            for item in submission.files
        )
        built_in = competition.format != Format.UNSTRUCTURED.value
        released, hidden = (_built_in_data if built_in else _all_data)(competition.data_files)
        scored = _metrics(session, competition)
        judging = None
        if built_in:
            checks = tuple(
                Check(check.function, check.scope, check.order, dict(check.parameters))
                for check in competition.checks
            )
            judging = Judging(checks=checks, metric=row.metric).to_json()
            if not hidden:  # no targets to score against: the checks alone judge
                scored = []
        modules = (
            ()
            if built_in
            else tuple(
                file(f"{module.kind}.py", module.blob_key, module.size, module.sha256)
                for module in _modules(session, competition.id)
            )
        )
        return Job(
            run_id=run_id,
            attempt=row.attempts,
            submission_number=submission.number,
            runtime=row.runtime,
            code=code,
            main_file=submission.main_file_path,
            model_directory=submission.model_directory_path,
            requirements=_requirements(store, code),
            modules=modules,
            released=tuple(file(name, *blob) for name, blob in released.items()),
            hidden=tuple(file(name, *blob) for name, blob in hidden.items()),
            metrics=tuple(scored),
            judging=judging,
            format=competition.format,
            columns={
                "id": competition.id_column,
                "moon": competition.moon_column,
                "target": competition.target_column,
                "prediction": competition.prediction_column,
            },
            embargo=competition.embargo,
            number_of_features=len(competition.features),
            train_frequency=row.train_frequency,
            force_first_train=row.force_first_train,
            limits=Limits(
                time_seconds=competition.run_time_limit_seconds,
                memory_mb=competition.run_memory_limit_mb,
                max_model_size=competition.max_model_size,
                cpus=competition.run_cpus,
                **dataclasses.asdict(bounds),
            ),
        )


_Blob = tuple[str, int, str]  # key, size, sha256


def _requirements(store: HubStore, code: tuple[JobFile, ...]) -> str | None:
    """The submission's requirements.txt, read through its sha256 check."""
    for item in code:
        if item.path == REQUIREMENTS_FILE:
            text = store.blobs.read_verified(item.key, item.sha256, MAX_REQUIREMENTS_SIZE)
            return text.decode("utf-8", "replace")
    return None


def _blob(item: DataFile) -> _Blob:
    return item.blob_key, item.size, item.sha256


def _built_in_data(files: list[DataFile]) -> tuple[dict[str, _Blob], dict[str, _Blob]]:
    """The training files and the test features for the run; the targets for the scoring
    only. The hidden test set when the competition has one, else the released one."""
    public = {item.key: item for item in files if not item.hidden}
    secret = {item.key: item for item in files if item.hidden}
    test = secret if all(key in secret for key in HIDDEN_FILES) else public
    chosen = {"X_train": public["X_train"], "y_train": public["y_train"], "X_test": test["X_test"]}
    released = {f"{key}.parquet": _blob(item) for key, item in chosen.items()}
    y_test = test.get("y_test")
    return released, {} if y_test is None else {"y_test.parquet": _blob(y_test)}


def _all_data(files: list[DataFile]) -> tuple[dict[str, _Blob], dict[str, _Blob]]:
    """A competition with its own modules: every released file at its name, the hidden
    ones over them for the scoring."""
    released = {item.name: _blob(item) for item in files if not item.hidden}
    return released, {item.name: _blob(item) for item in files if item.hidden}


def _metrics(session: Session, competition: Competition) -> list[dict[str, object]]:
    target = metrics.target(competition)
    return [views.metric(item, target) for item in metrics.metrics(session, competition)]


def _modules(session: Session, competition_id: int) -> list[CompetitionModule]:
    return list(
        session.scalars(
            select(CompetitionModule)
            .where(CompetitionModule.competition_id == competition_id)
            .order_by(CompetitionModule.id)
        )
    )
