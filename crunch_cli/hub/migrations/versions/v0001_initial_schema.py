"""The hub's schema as it stood when migrations began.

The tables are written out here, frozen, rather than taken from `crunch_cli.hub.models`:
later revisions change the models, never what this revision created. `schema()` is also
what a root made before migrations existed is brought up to (`crunch_cli.hub.db`), before
it is stamped with this revision.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# 64-bit everywhere; on SQLite, INTEGER (already 64-bit) keeps ids the rowid.
INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Naive UTC: the models' UtcDateTime adds and strips the zone.
UTC = sa.DateTime()

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _id() -> sa.Column[int]:
    return sa.Column("id", INT64, primary_key=True)


def _required(
    name: str, type_: sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]
) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=False)


def _optional(
    name: str, type_: sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]
) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=True)


def _reference(
    name: str, target: str, *, index: bool = False, ondelete: str | None = None
) -> sa.Column[int]:
    return sa.Column(
        name, INT64, sa.ForeignKey(target, ondelete=ondelete), nullable=False, index=index
    )


def schema() -> sa.MetaData:
    """Every table of revision 0001, in a metadata of its own."""
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    sa.Table(
        "users",
        metadata,
        _id(),
        _required("login", sa.String(100)),
        _required("created_at", UTC),
        sa.UniqueConstraint("login"),
    )
    sa.Table(
        "competitions",
        metadata,
        _id(),
        _required("name", sa.String(100)),
        _required("display_name", sa.String(200)),
        _required("short_description", sa.Text()),
        _required("format", sa.String(20)),
        _required("metric", sa.String(20)),
        _required("embargo", INT64),
        _required("id_column", sa.String(100)),
        _optional("moon_column", sa.String(100)),
        _required("target_column", sa.String(100)),
        _required("prediction_column", sa.String(100)),
        _required("features", sa.JSON()),
        _required("splits", sa.JSON()),
        _required("run_time_limit_seconds", INT64),
        _required("run_memory_limit_mb", INT64),
        _required("max_code_size", INT64),
        _required("max_model_size", INT64),
        _required("submissions_per_day", INT64),
        _required("created_at", UTC),
        sa.UniqueConstraint("name"),
    )
    sa.Table(
        "rounds",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id"),
        _required("number", INT64),
        _required("start", UTC),
        _required("end", UTC),
        sa.UniqueConstraint("competition_id", "number"),
    )
    sa.Table(
        "phases",
        metadata,
        _id(),
        _reference("round_id", "rounds.id"),
        _required("type", sa.String(20)),
        _required("start", UTC),
        _required("end", UTC),
        sa.UniqueConstraint("round_id", "type"),
    )
    sa.Table(
        "data_files",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id"),
        _required("key", sa.String(50)),
        _required("name", sa.String(200)),
        _required("blob_key", sa.String(200)),
        _required("size", INT64),
        _required("sha256", sa.String(64)),
        _required("hidden", sa.Boolean()),
        sa.UniqueConstraint("competition_id", "hidden", "key"),
    )
    sa.Table(
        "checks",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id"),
        _required("function", sa.String(50)),
        _required("scope", sa.String(10)),
        _required("order", INT64),
        _required("parameters", sa.JSON()),
    )
    sa.Table(
        "projects",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id"),
        _reference("user_id", "users.id"),
        _required("name", sa.String(100)),
        _required("created_at", UTC),
        sa.UniqueConstraint("competition_id", "user_id", "name"),
    )
    sa.Table(
        "clone_tokens",
        metadata,
        _id(),
        _reference("project_id", "projects.id"),
        _required("token_sha256", sa.String(64)),
        _required("created_at", UTC),
        _required("expires_at", UTC),
        _optional("used_at", UTC),
        sa.UniqueConstraint("token_sha256"),
    )
    sa.Table(
        "project_tokens",
        metadata,
        _id(),
        _reference("project_id", "projects.id"),
        _required("token_sha256", sa.String(64)),
        _required("type", sa.String(20)),
        _required("created_at", UTC),
        _optional("valid_until", UTC),
        _optional("revoked_at", UTC),
        sa.UniqueConstraint("token_sha256"),
    )
    sa.Table(
        "uploads",
        metadata,
        sa.Column("id", sa.String(40), primary_key=True),
        _reference("project_id", "projects.id"),
        _required("name", sa.String(500)),
        _required("size", INT64),
        _required("media_type", sa.String(200)),
        _required("encrypted", sa.Boolean()),
        _required("status", sa.String(20)),
        _optional("status_message", sa.Text()),
        _optional("sha256", sa.String(64)),
        _required("received_bytes", INT64),
        _required("created_at", UTC),
        _required("expires_at", UTC),
        _optional("used_at", UTC),
    )
    sa.Table(
        "upload_chunks",
        metadata,
        _id(),
        sa.Column(
            "upload_id",
            sa.String(40),
            sa.ForeignKey("uploads.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _required("number", INT64),
        _required("offset", INT64),
        _required("size", INT64),
        _optional("hash", sa.String(64)),
        _required("completed", sa.Boolean()),
        _optional("completed_at", UTC),
        sa.UniqueConstraint("upload_id", "number"),
    )
    sa.Table(
        "submissions",
        metadata,
        _id(),
        _reference("project_id", "projects.id"),
        _required("number", INT64),
        _required("type", sa.String(20)),
        _required("message", sa.Text()),
        _required("main_file_path", sa.String(500)),
        _required("model_directory_path", sa.String(500)),
        _required("total_size", INT64),
        _optional("submitter_imprint", sa.String(200)),
        _required("created_at", UTC),
        sa.UniqueConstraint("project_id", "number"),
    )
    sa.Table(
        "submission_files",
        metadata,
        _id(),
        _reference("submission_id", "submissions.id"),
        _required("kind", sa.String(10)),
        _required("path", sa.String(500)),
        _required("blob_key", sa.String(200)),
        _required("size", INT64),
        _required("sha256", sa.String(64)),
        _required("media_type", sa.String(200)),
    )
    sa.Table(
        "runs",
        metadata,
        _id(),
        _reference("project_id", "projects.id", index=True),
        _reference("submission_id", "submissions.id"),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        _optional("success", sa.Boolean()),
        _required("terminated", sa.Boolean()),
        _optional("exit_reason", sa.String(20)),
        _optional("exit_code", INT64),
        _optional("error_message", sa.Text()),
        _required("train_frequency", INT64),
        _required("force_first_train", sa.Boolean()),
        _required("metric", sa.String(20)),
        _optional("score", sa.Float()),
        _required("created_at", UTC),
        _optional("started_at", UTC),
        _optional("ended_at", UTC),
        _optional("worker", sa.String(200)),
    )
    sa.Table(
        "run_metrics",
        metadata,
        _id(),
        _reference("run_id", "runs.id", index=True),
        _required("position", INT64),
        _required("name", sa.String(100)),
        _required("target", sa.String(100)),
        _optional("value", sa.Float()),
        _required("details", sa.JSON()),
    )
    sa.Table(
        "run_modules",
        metadata,
        _id(),
        _reference("run_id", "runs.id", index=True),
        _required("kind", sa.String(20)),
        _required("sha256", sa.String(64)),
    )
    sa.Table(
        "run_logs",
        metadata,
        _id(),
        _reference("run_id", "runs.id", index=True),
        _required("emitter", sa.String(10)),
        _required("error", sa.Boolean()),
        _required("content", sa.Text()),
        _required("created_at", UTC),
    )
    sa.Table(
        "competition_modules",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id", index=True),
        _required("kind", sa.String(20)),
        _required("blob_key", sa.String(200)),
        _required("size", INT64),
        _required("sha256", sa.String(64)),
        _required("created_at", UTC),
        sa.UniqueConstraint("competition_id", "kind"),
    )
    sa.Table(
        "competition_metrics",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id", index=True),
        _required("position", INT64),
        _required("name", sa.String(100)),
        _required("lower_is_better", sa.Boolean()),
        sa.UniqueConstraint("competition_id", "name"),
        sa.UniqueConstraint("competition_id", "position"),
    )
    sa.Table(
        "quickstarters",
        metadata,
        _id(),
        _reference("competition_id", "competitions.id", index=True),
        _required("name", sa.String(100)),
        _required("title", sa.String(200)),
        _required("created_at", UTC),
        sa.UniqueConstraint("competition_id", "name"),
    )
    sa.Table(
        "quickstarter_files",
        metadata,
        _id(),
        _reference("quickstarter_id", "quickstarters.id", index=True, ondelete="CASCADE"),
        _required("position", INT64),
        _required("name", sa.String(255)),
        _required("blob_key", sa.String(200)),
        _required("size", INT64),
        _required("sha256", sa.String(64)),
        sa.UniqueConstraint("quickstarter_id", "name"),
    )
    sa.Table(
        "library_requests",
        metadata,
        _id(),
        _reference("project_id", "projects.id", index=True),
        _optional("name", sa.String(100)),
        _optional("alias", sa.String(100)),
        _required("language", sa.String(10)),
        _optional("gpu_requirement", sa.String(20)),
        _optional("additional_details", sa.Text()),
        sa.Column("verdict", sa.String(20), nullable=False, index=True),
        _optional("verdict_reason", sa.Text()),
        _optional("verdict_at", UTC),
        _required("created_at", UTC),
    )
    return metadata


def upgrade() -> None:
    schema().create_all(op.get_bind())


def downgrade() -> None:
    schema().drop_all(op.get_bind())
