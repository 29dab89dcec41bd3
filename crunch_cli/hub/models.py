"""The hub's SQL tables.

Secrets never reach the database in plain text: tokens are stored as their sha256. Every
timestamp is UTC; `UtcDateTime` keeps it that way on databases (SQLite) that drop the zone.
Every integer is 64-bit (`Int64`): the API accepts ids and numbers up to 2**63, which
PostgreSQL's INTEGER would refuse.

A change here needs a migration in `migrations/versions/` (see `crunch_cli.hub.db`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# SQLite's INTEGER is already 64-bit, and only "INTEGER PRIMARY KEY" makes an id the rowid
# (autoincrement): BIGINT there would break both ids and the roots made before this type.
Int64 = BigInteger().with_variant(Integer(), "sqlite")

# Named constraints, so a later migration can drop or change one by its name on every
# database (SQLite's table rebuilds included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, whatever the database does with zones."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Str(TypeDecorator[str]):
    """A string any database can store: PostgreSQL refuses NUL characters, which a run's
    output or a message may hold, so there they are stored as U+FFFD (the replacement
    character). A look-up with one then finds nothing, as on SQLite."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and "\x00" in value:
            return value.replace("\x00", "\ufffd")
        return value


class LongStr(Str):
    """`Str` without a length limit (TEXT)."""

    impl = Text
    cache_ok = True


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Foreign keys take their type from here, not from the column they point at.
    type_annotation_map = {int: Int64}  # noqa: RUF012  # SQLAlchemy's own class attribute


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    login: Mapped[str] = mapped_column(Str(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Competition(Base):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    name: Mapped[str] = mapped_column(Str(100), unique=True)
    display_name: Mapped[str] = mapped_column(Str(200))
    short_description: Mapped[str] = mapped_column(LongStr, default="")
    format: Mapped[str] = mapped_column(Str(20))
    metric: Mapped[str] = mapped_column(Str(20))
    embargo: Mapped[int] = mapped_column(Int64, default=0)
    id_column: Mapped[str] = mapped_column(Str(100))
    moon_column: Mapped[str | None] = mapped_column(Str(100), nullable=True)
    target_column: Mapped[str] = mapped_column(Str(100))
    prediction_column: Mapped[str] = mapped_column(Str(100))
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    splits: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    run_time_limit_seconds: Mapped[int] = mapped_column(Int64)
    run_memory_limit_mb: Mapped[int] = mapped_column(Int64)
    max_code_size: Mapped[int] = mapped_column(Int64)
    max_model_size: Mapped[int] = mapped_column(Int64)
    submissions_per_day: Mapped[int] = mapped_column(Int64)
    # Which runtimes its runs may ask for ("cpu", "gpu"), the CPUs a worker reserves for a
    # run, and how long a run may wait for a worker able to run it before it fails.
    runtimes: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["cpu"])
    run_cpus: Mapped[int] = mapped_column(Int64, default=1)
    queue_timeout_seconds: Mapped[int] = mapped_column(Int64, default=3600)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    rounds: Mapped[list[Round]] = relationship(
        back_populates="competition", order_by="Round.number", cascade="all, delete-orphan"
    )
    data_files: Mapped[list[DataFile]] = relationship(
        back_populates="competition", order_by="DataFile.id", cascade="all, delete-orphan"
    )
    checks: Mapped[list[Check]] = relationship(
        back_populates="competition", order_by="Check.order", cascade="all, delete-orphan"
    )


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("competition_id", "number"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    number: Mapped[int] = mapped_column(Int64)
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)

    competition: Mapped[Competition] = relationship(back_populates="rounds")
    phases: Mapped[list[Phase]] = relationship(
        back_populates="round", order_by="Phase.start", cascade="all, delete-orphan"
    )


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("round_id", "type"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    type: Mapped[str] = mapped_column(Str(20))
    start: Mapped[datetime] = mapped_column(UtcDateTime)
    end: Mapped[datetime] = mapped_column(UtcDateTime)

    round: Mapped[Round] = relationship(back_populates="phases")


class DataFile(Base):
    """A file of the competition's data; `hidden` ones stay on the hub for its own runs."""

    __tablename__ = "data_files"
    __table_args__ = (UniqueConstraint("competition_id", "hidden", "key"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    key: Mapped[str] = mapped_column(Str(50))
    name: Mapped[str] = mapped_column(Str(200))
    blob_key: Mapped[str] = mapped_column(Str(200))
    size: Mapped[int] = mapped_column(Int64)
    sha256: Mapped[str] = mapped_column(Str(64))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    competition: Mapped[Competition] = relationship(back_populates="data_files")


class Check(Base):
    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    function: Mapped[str] = mapped_column(Str(50))
    scope: Mapped[str] = mapped_column(Str(10), default="ROOT")
    order: Mapped[int] = mapped_column(Int64)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    competition: Mapped[Competition] = relationship(back_populates="checks")


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("competition_id", "user_id", "name"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(Str(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    competition: Mapped[Competition] = relationship()
    user: Mapped[User] = relationship()


class CloneToken(Base):
    """A one-time setup token: valid until `expires_at`, spent when `used_at` is set."""

    __tablename__ = "clone_tokens"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    token_sha256: Mapped[str] = mapped_column(Str(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ProjectToken(Base):
    """Opens one project (hence one competition) until `valid_until` (None: no expiry), or
    until `revoked_at` is set, when `crunch update-token` replaces it.
    """

    __tablename__ = "project_tokens"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    token_sha256: Mapped[str] = mapped_column(Str(64), unique=True)
    type: Mapped[str] = mapped_column(Str(20), default="PERMANENT")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    project: Mapped[Project] = relationship()


class Upload(Base):
    """A file sent in chunks; its bytes live in the blob `uploads/<id>`, each chunk written
    in place at its offset, until completion moves them to the content blob of `sha256`.
    `received_bytes` counts every byte that reached the hub; `used_at` is when a submission
    first took the file (until then it counts against the project's upload quota).
    """

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(Str(40), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    name: Mapped[str] = mapped_column(Str(500))
    size: Mapped[int] = mapped_column(Int64)
    media_type: Mapped[str] = mapped_column(Str(200))
    encrypted: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(Str(20), default="PENDING")
    status_message: Mapped[str | None] = mapped_column(LongStr, nullable=True)
    sha256: Mapped[str | None] = mapped_column(Str(64), nullable=True)
    received_bytes: Mapped[int] = mapped_column(Int64, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    chunks: Mapped[list[UploadChunk]] = relationship(
        back_populates="upload", order_by="UploadChunk.number", cascade="all, delete-orphan"
    )


class UploadChunk(Base):
    __tablename__ = "upload_chunks"
    __table_args__ = (UniqueConstraint("upload_id", "number"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Int64)
    offset: Mapped[int] = mapped_column(Int64)
    size: Mapped[int] = mapped_column(Int64)
    # sha256 of the bytes last PUT for this chunk (the ETag); `completed` once confirmed.
    hash: Mapped[str | None] = mapped_column(Str(64), nullable=True)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    upload: Mapped[Upload] = relationship(back_populates="chunks")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    number: Mapped[int] = mapped_column(Int64)
    type: Mapped[str] = mapped_column(Str(20))
    message: Mapped[str] = mapped_column(LongStr, default="")
    main_file_path: Mapped[str] = mapped_column(Str(500))
    model_directory_path: Mapped[str] = mapped_column(Str(500))
    total_size: Mapped[int] = mapped_column(Int64)
    submitter_imprint: Mapped[str | None] = mapped_column(Str(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    project: Mapped[Project] = relationship()
    files: Mapped[list[SubmissionFile]] = relationship(
        back_populates="submission", order_by="SubmissionFile.id", cascade="all, delete-orphan"
    )


class SubmissionFile(Base):
    """One file of a submission, kept content-addressed so deleting the upload it came
    from does not take it away. `path` is relative to the workspace root (code) or to the
    model directory (model), as on the wire.
    """

    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    kind: Mapped[str] = mapped_column(Str(10))
    path: Mapped[str] = mapped_column(Str(500))
    blob_key: Mapped[str] = mapped_column(Str(200))
    size: Mapped[int] = mapped_column(Int64)
    sha256: Mapped[str] = mapped_column(Str(64))
    media_type: Mapped[str] = mapped_column(Str(200))

    submission: Mapped[Submission] = relationship(back_populates="files")


class Run(Base):
    """One execution of a submission on the hub's hidden data.

    `status` moves CREATED (queued) → PENDING (a worker prepares it) → RUNNING → CLEANING
    (judging, tidying) → COMPLETED. `terminated` records that someone asked to stop it;
    `worker` names the hub process that took it, so a restart knows whose runs died.
    `runtime` is what it asked for ("cpu", "gpu"); `attempts` counts its starts (a run
    whose worker was lost goes back to the queue once). `waiting_reason` says why no
    worker takes it, since `waiting_since`.
    """

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    status: Mapped[str] = mapped_column(Str(20), default="CREATED", index=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    terminated: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_reason: Mapped[str | None] = mapped_column(Str(20), nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Int64, nullable=True)
    error_message: Mapped[str | None] = mapped_column(LongStr, nullable=True)
    train_frequency: Mapped[int] = mapped_column(Int64, default=1)
    force_first_train: Mapped[bool] = mapped_column(Boolean, default=True)
    metric: Mapped[str] = mapped_column(Str(20))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(Str(200), nullable=True)
    runtime: Mapped[str] = mapped_column(Str(20), default="cpu")
    attempts: Mapped[int] = mapped_column(Int64, default=0)
    waiting_reason: Mapped[str | None] = mapped_column(LongStr, nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    project: Mapped[Project] = relationship()
    submission: Mapped[Submission] = relationship()
    metrics: Mapped[list[RunMetric]] = relationship(order_by="RunMetric.position")
    modules: Mapped[list[RunModule]] = relationship(order_by="RunModule.kind")


class RunMetric(Base):
    """A metric a competition's scoring module gave a run; the ranking one is `Run.score`."""

    __tablename__ = "run_metrics"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    position: Mapped[int] = mapped_column(Int64)
    name: Mapped[str] = mapped_column(Str(100))
    target: Mapped[str] = mapped_column(Str(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    details: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class RunModule(Base):
    """The sha256 of a module a run used: what it ran with, even after the organizer
    replaced it."""

    __tablename__ = "run_modules"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    kind: Mapped[str] = mapped_column(Str(20))
    sha256: Mapped[str] = mapped_column(Str(64))


class RunLog(Base):
    """One line of a run's output; ids grow in arrival order, so `after=<id>` pages them."""

    __tablename__ = "run_logs"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    emitter: Mapped[str] = mapped_column(Str(10))
    error: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(LongStr)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CompetitionModule(Base):
    """One of the competition's own modules (`runner`, `scoring`, ...), served to clients
    and runs as the source it was registered with. A replacement writes new rows: the
    blobs themselves never change.
    """

    __tablename__ = "competition_modules"
    __table_args__ = (UniqueConstraint("competition_id", "kind"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    kind: Mapped[str] = mapped_column(Str(20))
    blob_key: Mapped[str] = mapped_column(Str(200))
    size: Mapped[int] = mapped_column(Int64)
    sha256: Mapped[str] = mapped_column(Str(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CompetitionMetric(Base):
    """A metric of a competition that ships its own scoring module, which computes them
    all; the one at `position` 0 ranks the leaderboard. Built-in formats have none here:
    their one metric is `Competition.metric`.
    """

    __tablename__ = "competition_metrics"
    __table_args__ = (
        UniqueConstraint("competition_id", "name"),
        UniqueConstraint("competition_id", "position"),
    )

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    position: Mapped[int] = mapped_column(Int64)
    name: Mapped[str] = mapped_column(Str(100))
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=False)


class Quickstarter(Base):
    """Starter code an organizer added to a competition; its files are content blobs. The
    package's templates for a built-in format are quickstarters too but live in the package,
    not here; one of these with the same name takes their place.
    """

    __tablename__ = "quickstarters"
    __table_args__ = (UniqueConstraint("competition_id", "name"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"), index=True)
    name: Mapped[str] = mapped_column(Str(100))
    title: Mapped[str] = mapped_column(Str(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    files: Mapped[list[QuickstarterFile]] = relationship(
        back_populates="quickstarter",
        order_by="QuickstarterFile.position",
        cascade="all, delete-orphan",
    )


class QuickstarterFile(Base):
    """One file of a quickstarter, at `name` (relative to the workspace) once applied."""

    __tablename__ = "quickstarter_files"
    __table_args__ = (UniqueConstraint("quickstarter_id", "name"),)

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    quickstarter_id: Mapped[int] = mapped_column(
        ForeignKey("quickstarters.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Int64)
    name: Mapped[str] = mapped_column(Str(255))
    blob_key: Mapped[str] = mapped_column(Str(200))
    size: Mapped[int] = mapped_column(Int64)
    sha256: Mapped[str] = mapped_column(Str(64))

    quickstarter: Mapped[Quickstarter] = relationship(back_populates="files")


class LibraryRequest(Base):
    """A participant's request to whitelist a library (crunch-cli's `whitelist request`).

    `verdict` is PENDING until the organizer approves it (`crunch hub whitelist approve`,
    which adds the library to the hub's whitelist); a request for a library already
    whitelisted is APPROVED at once.
    """

    __tablename__ = "library_requests"

    id: Mapped[int] = mapped_column(Int64, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    name: Mapped[str | None] = mapped_column(Str(100), nullable=True)
    alias: Mapped[str | None] = mapped_column(Str(100), nullable=True)
    language: Mapped[str] = mapped_column(Str(10))
    gpu_requirement: Mapped[str | None] = mapped_column(Str(20), nullable=True)
    additional_details: Mapped[str | None] = mapped_column(LongStr, nullable=True)
    verdict: Mapped[str] = mapped_column(Str(20), default="PENDING", index=True)
    verdict_reason: Mapped[str | None] = mapped_column(LongStr, nullable=True)
    verdict_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    project: Mapped[Project] = relationship()
