"""Runs as the database knows them: create, find, list, log lines, and every status change.

Each change of status is a conditional UPDATE (`... WHERE status = <expected>`), so the
HTTP side (terminating a queued run) and the workers (claiming it) can race without a
lock and without a run ever being taken twice or finished twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from crunch_cli.hub import submissions
from crunch_cli.hub.deps import PageRequest, StoredInt
from crunch_cli.hub.errors import not_found

# Outcome and TERMINATED_MESSAGE live with the jobs (workers read them too); named here as
# ever for the hub's own modules.
from crunch_cli.hub.execution.job import MAX_ATTEMPTS, TERMINATED_MESSAGE, Outcome
from crunch_cli.hub.lookups import MAX_ID
from crunch_cli.hub.models import (
    Competition,
    Project,
    Run,
    RunLog,
    RunMetric,
    RunModule,
    Submission,
    utcnow,
)
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.views import iso, page

logger = logging.getLogger(__name__)

CREATED, PENDING, RUNNING, CLEANING, COMPLETED = (
    "CREATED",
    "PENDING",
    "RUNNING",
    "CLEANING",
    "COMPLETED",
)
ACTIVE = (PENDING, RUNNING, CLEANING)
USER, RUNNER, HUB = "user", "runner", "hub"
HUB_STOPPED = "the hub stopped while this run was running"
QUEUE_TIMEOUT, WORKER_LOST = "queue timeout", "worker lost"


class NewRun(BaseModel):
    """The body of `POST .../runs`."""

    model_config = ConfigDict(populate_by_name=True)

    submission_id: StoredInt = Field(alias="submissionId")
    # 0: train at the first moon only (when forced or without a model), crunch-cli 13's default
    train_frequency: int = Field(default=1, ge=0, lt=MAX_ID, alias="trainFrequency")
    force_first_train: bool = Field(default=True, alias="forceFirstTrain")
    runtime_definition_name: str | None = Field(default=None, alias="runtimeDefinitionName")


def duration(row: Run) -> float | None:
    """Seconds from start to end, once the run has ended."""
    if row.started_at is None or row.ended_at is None:
        return None
    return round((row.ended_at - row.started_at).total_seconds(), 3)


def view(row: Run) -> dict[str, Any]:
    return {
        "id": row.id,
        "status": row.status,
        "success": row.success,
        "terminated": row.terminated,
        "submission": submissions.view(row.submission),
        "createdAt": iso(row.created_at),
        "errorMessage": row.error_message,
        "exitCode": row.exit_code,
        "exitReason": row.exit_reason,
        "startedAt": iso(row.started_at),
        "endedAt": iso(row.ended_at),
        "duration": duration(row),
        # ours
        "score": row.score,
        "metric": row.metric,
        "submissionNumber": row.submission.number,
        "metrics": [
            {"name": item.name, "target": item.target, "value": item.value, "details": item.details}
            for item in row.metrics
        ],
        "modules": {item.kind: item.sha256 for item in row.modules},
        "runtime": row.runtime,
        "attempts": row.attempts,
        "waitingReason": row.waiting_reason,
    }


def log_view(row: RunLog) -> dict[str, Any]:
    return {
        "id": row.id,
        "emitter": row.emitter,
        "error": row.error,
        "content": row.content,
        "createdAt": iso(row.created_at),
    }


def create(session: Session, competition: Competition, project: Project, body: NewRun) -> Run:
    submission = session.get(Submission, body.submission_id)
    if submission is None or submission.project_id != project.id:
        raise not_found(
            "SUBMISSION_NOT_FOUND",
            f"project {project.name!r} has no submission with id {body.submission_id}",
            submissionId=body.submission_id,
        )
    row = Run(
        project_id=project.id,
        submission=submission,
        train_frequency=body.train_frequency,
        force_first_train=body.force_first_train,
        metric=competition.metric,
        runtime=body.runtime_definition_name or default_runtime(competition),
    )
    session.add(row)
    session.flush()
    return row


def default_runtime(competition: Competition) -> str:
    """`cpu` where the competition offers it, else its first runtime."""
    offered = list(competition.runtimes or ["cpu"])
    return "cpu" if "cpu" in offered else offered[0]


def find(session: Session, project: Project, run_id: int) -> Run:
    row = session.get(Run, run_id)
    if row is None or row.project_id != project.id:
        raise not_found(
            "RUN_NOT_FOUND", f"project {project.name!r} has no run {run_id}", runId=run_id
        )
    return row


def every(session: Session, project: Project) -> list[dict[str, Any]]:
    """Every run of the project, oldest first, as the hosted hub lists them to a client
    that asks for no page: crunch-cli 13 reverses the array to show the newest first and
    cuts it at `--limit`.
    """
    query = select(Run).where(Run.project_id == project.id).order_by(Run.id)
    return [view(row) for row in session.scalars(query)]


def page_of(session: Session, project: Project, request: PageRequest) -> dict[str, Any]:
    """A page of the project's runs, newest first."""
    total = session.scalar(select(func.count(Run.id)).where(Run.project_id == project.id)) or 0
    rows = session.scalars(
        select(Run)
        .where(Run.project_id == project.id)
        .order_by(Run.id.desc())
        .offset(request.page * request.size)
        .limit(request.size)
    )
    return page([view(row) for row in rows], request.page, request.size, total)


def logs(
    session: Session, row: Run, after: int | None, size: int | None = None
) -> list[dict[str, Any]]:
    """The run's lines after the line id `after`, oldest first, at most `size` of them."""
    query = select(RunLog).where(RunLog.run_id == row.id)
    if after is not None:
        query = query.where(RunLog.id > after)
    return [log_view(line) for line in session.scalars(query.order_by(RunLog.id).limit(size))]


# -- status changes -------------------------------------------------------------------------


def _move(session: Session, run_id: int, expected: Sequence[str], **values: Any) -> bool:
    """Apply `values` if the run is in one of the `expected` statuses; say if it was."""
    result = session.execute(
        update(Run).where(Run.id == run_id, Run.status.in_(expected)).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def next_queued(
    store: HubStore, worker: str, runtimes: Collection[str] | None = None
) -> int | None:
    """Take the oldest queued run (of one of these `runtimes`; None: of any) (CREATED →
    PENDING, one more attempt); None when there is none, or when the database is too busy
    to take one now: the worker asks again at its next poll, rather than dying with the
    error.

    On PostgreSQL the run's row is locked first, skipping rows other hub processes hold
    (`FOR UPDATE SKIP LOCKED`): claims on one database never wait on each other, and the
    conditional UPDATE then cannot miss. SQLite ignores the clause; its BEGIN IMMEDIATE
    already lets one claim through at a time.
    """
    oldest = select(Run.id).where(Run.status == CREATED)
    if runtimes is not None:
        oldest = oldest.where(Run.runtime.in_(runtimes))
    oldest = oldest.order_by(Run.id).limit(1).with_for_update(skip_locked=True)
    try:
        with store.session() as session:
            run_id = session.scalar(oldest)
            if run_id is not None and _move(
                session,
                run_id,
                (CREATED,),
                status=PENDING,
                worker=worker,
                attempts=Run.attempts + 1,
                waiting_reason=None,
                waiting_since=None,
            ):
                return run_id
    except (OperationalError, PoolTimeoutError):
        logger.warning("the queue could not be read; trying again at the next poll", exc_info=True)
    return None


def mark_running(store: HubStore, run_id: int) -> bool:
    with store.session() as session:
        return _move(session, run_id, (PENDING,), status=RUNNING, started_at=utcnow())


def mark_cleaning(store: HubStore, run_id: int) -> None:
    with store.session() as session:
        _move(session, run_id, (RUNNING,), status=CLEANING)


def finish(store: HubStore, run_id: int, outcome: Outcome) -> None:
    """Record the end of a run a worker took; a run never started gets a zero duration."""
    now = utcnow()
    with store.session() as session:
        row = session.get(Run, run_id)
        if row is None or row.status == COMPLETED:
            return
        _move(
            session,
            run_id,
            ACTIVE,
            status=COMPLETED,
            success=outcome.success,
            exit_reason=outcome.exit_reason,
            error_message=outcome.error_message,
            exit_code=outcome.exit_code,
            score=outcome.score,
            started_at=row.started_at or now,
            ended_at=now,
        )
        session.add_all(
            RunMetric(
                run_id=run_id,
                position=position,
                name=str(metric["name"]),
                target=str(metric.get("target") or ""),
                value=metric.get("value"),
                details=list(metric.get("details") or []),
            )
            for position, metric in enumerate(outcome.metrics)
        )


def record_modules(store: HubStore, run_id: int, modules: dict[str, str]) -> None:
    """Which modules (kind → sha256) the run is about to use."""
    with store.session() as session:
        session.add_all(
            RunModule(run_id=run_id, kind=kind, sha256=sha256) for kind, sha256 in modules.items()
        )


def request_termination(session: Session, run_id: int) -> bool:
    """Mark the run as terminated; a queued one ends here and now. Returns True when a
    worker holds the run and must stop it.
    """
    now = utcnow()
    if _move(
        session,
        run_id,
        (CREATED,),
        status=COMPLETED,
        success=False,
        terminated=True,
        exit_reason="terminated",
        error_message=TERMINATED_MESSAGE,
        started_at=now,
        ended_at=now,
    ):
        return False
    return _move(session, run_id, ACTIVE, terminated=True)


def termination_requested(store: HubStore, run_id: int) -> bool:
    with store.session(write=False) as session:
        return bool(session.scalar(select(Run.terminated).where(Run.id == run_id)))


def recover(store: HubStore, worker_alive: Callable[[str], bool]) -> None:
    """After a (re)start: runs taken by a hub process that is gone go back to the queue
    if they had not started, and are failed, with the reason, if they had.
    """
    now = utcnow()
    with store.session() as session:
        orphans = [
            (row.id, row.status)
            for row in session.scalars(select(Run).where(Run.status.in_(ACTIVE)))
            if row.worker is None or not worker_alive(row.worker)
        ]
        for run_id, status in orphans:
            if status == PENDING:
                _move(session, run_id, (PENDING,), status=CREATED, worker=None)
            elif _move(
                session,
                run_id,
                (RUNNING, CLEANING),
                status=COMPLETED,
                success=False,
                exit_reason="error",
                error_message=HUB_STOPPED,
                ended_at=now,
            ):
                session.add(RunLog(run_id=run_id, emitter=HUB, error=True, content=HUB_STOPPED))


# -- waiting, the queue timeout, lost workers -------------------------------------------------


def review_queue(store: HubStore, unable: Mapping[str, str]) -> None:
    """Say why queued runs wait: a run of a runtime in `unable` (runtime → why no worker can
    run it) gets that reason, and a hub line in its log when the reason changes; a run of
    another runtime loses its reason. A run that has waited for a capable worker longer
    than its competition's queue timeout fails with the reason.
    """
    now = utcnow()
    with store.session() as session:
        rows = session.scalars(
            select(Run).where(
                Run.status == CREATED,
                Run.runtime.in_(unable) | Run.waiting_reason.is_not(None),
            )
        ).all()
        for row in rows:
            reason = unable.get(row.runtime)
            if reason is None:
                if row.waiting_reason is not None:
                    _move(session, row.id, (CREATED,), waiting_reason=None, waiting_since=None)
                continue
            if row.waiting_reason != reason:
                note_waiting(session, row, reason, now)
    for run_id in _waited_too_long(store, (CREATED,), now):
        _expire(store, run_id, now)


def note_waiting(session: Session, row: Run, reason: str, now: datetime) -> None:
    """Record why `row` waits (keeping when it started to), and say it in its log."""
    timeout = row.project.competition.queue_timeout_seconds
    _move(
        session,
        row.id,
        (CREATED, PENDING),
        waiting_reason=reason,
        waiting_since=row.waiting_since or now,
    )
    session.add(
        RunLog(
            run_id=row.id,
            emitter=HUB,
            content=f"waiting: {reason}; the run fails if no worker can take it within "
            f"{timeout} s (the competition's queue timeout)",
        )
    )


def wait_for_worker(store: HubStore, run_id: int, reason: str) -> bool:
    """A claimed run waits for a worker able to run it (a Ray run no node can place):
    record why; True once it has waited past its competition's queue timeout."""
    now = utcnow()
    with store.session() as session:
        row = session.get(Run, run_id)
        if row is None:
            return False
        if row.waiting_reason != reason:
            note_waiting(session, row, reason, now)
    return run_id in _waited_too_long(store, (PENDING,), now)


def stop_waiting(store: HubStore, run_id: int) -> None:
    with store.session() as session:
        _move(session, run_id, ACTIVE, waiting_reason=None, waiting_since=None)


def queue_timeout_outcome(store: HubStore, run_id: int) -> Outcome:
    """How a run that waited too long for a worker ends."""
    with store.session(write=False) as session:
        row = session.get(Run, run_id)
        assert row is not None
        timeout = row.project.competition.queue_timeout_seconds
        reason = row.waiting_reason or "no worker could take it"
    return Outcome(False, QUEUE_TIMEOUT, f"{reason}: waited {timeout} s (the queue timeout)")


def _waited_too_long(store: HubStore, statuses: Sequence[str], now: datetime) -> list[int]:
    with store.session(write=False) as session:
        rows = session.execute(
            select(Run.id, Run.waiting_since, Competition.queue_timeout_seconds)
            .join(Project, Run.project_id == Project.id)
            .join(Competition, Project.competition_id == Competition.id)
            .where(Run.status.in_(statuses), Run.waiting_since.is_not(None))
        ).all()
    return [
        run_id
        for run_id, since, timeout in rows
        if since is not None and (now - since).total_seconds() >= timeout
    ]


def _expire(store: HubStore, run_id: int, now: datetime) -> None:
    outcome = queue_timeout_outcome(store, run_id)
    with store.session() as session:
        if _move(
            session,
            run_id,
            (CREATED,),
            status=COMPLETED,
            success=False,
            exit_reason=outcome.exit_reason,
            error_message=outcome.error_message,
            started_at=now,
            ended_at=now,
        ):
            session.add(
                RunLog(run_id=run_id, emitter=HUB, error=True, content=outcome.error_message)
            )


def requeue_lost(store: HubStore, run_id: int, what: str) -> bool:
    """The worker running `run_id` was lost (`what` says how): back to the queue if it has
    attempts left (True), else it is left for the caller to fail with WORKER_LOST."""
    with store.session() as session:
        row = session.get(Run, run_id)
        if row is None or row.attempts >= MAX_ATTEMPTS or row.terminated:
            return False
        if not _move(
            session,
            run_id,
            ACTIVE,
            status=CREATED,
            worker=None,
            started_at=None,
            waiting_reason=None,
            waiting_since=None,
        ):
            return False
        session.add(
            RunLog(
                run_id=run_id,
                emitter=HUB,
                error=True,
                content=f"{what}; the run goes back to the queue (attempt {row.attempts} of "
                f"{MAX_ATTEMPTS})",
            )
        )
        return True


def worker_lost_outcome(what: str) -> Outcome:
    return Outcome(False, WORKER_LOST, f"{what}, on every attempt ({MAX_ATTEMPTS})")


def requeue_unstarted(store: HubStore, run_id: int, what: str) -> bool:
    """A taken run that never reached a worker goes back to the queue, its attempt given
    back (the hub that took it stopped before it could start)."""
    with store.session() as session:
        if not _move(
            session, run_id, (PENDING,), status=CREATED, worker=None, attempts=Run.attempts - 1
        ):
            return False
        session.add(RunLog(run_id=run_id, emitter=HUB, content=f"{what}; back to the queue"))
        return True


def adopt(store: HubStore, run_id: int, previous: str | None, worker: str) -> bool:
    """`worker` takes over an active run from the hub process `previous`, which is gone."""
    with store.session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_(ACTIVE), Run.worker == previous)
            .values(worker=worker)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


def resume_running(store: HubStore, run_id: int) -> bool:
    """The code of a run found again after a restart is running: True unless the run was
    terminated or ended meanwhile."""
    with store.session() as session:
        _move(session, run_id, (PENDING,), status=RUNNING, started_at=utcnow())
        row = session.get(Run, run_id)
        return row is not None and row.status == RUNNING and not row.terminated


def orphans(
    store: HubStore, worker_alive: Callable[[str], bool]
) -> list[tuple[int, str, str | None, int]]:
    """(id, status, worker, attempts) of the active runs whose hub process is gone."""
    with store.session(write=False) as session:
        return [
            (row.id, row.status, row.worker, row.attempts)
            for row in session.scalars(select(Run).where(Run.status.in_(ACTIVE)))
            if row.worker is None or not worker_alive(row.worker)
        ]
