"""Runtimes and the run queue across machines: a competition's runtimes (`cpu`, `gpu`), the
CPUs a worker reserves per run and how long a run may wait for a worker able to run it; a
run's runtime, how many times it was started, and why it waits.

Every new column of an existing row gets its value from a server default: competitions
offer `cpu` only, with one CPU and an hour of queue, as before; runs were `cpu` runs,
started once if they ever left the queue.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime()


def upgrade() -> None:
    with op.batch_alter_table("competitions") as table:
        table.add_column(sa.Column("runtimes", sa.JSON(), nullable=False, server_default='["cpu"]'))
        table.add_column(sa.Column("run_cpus", INT64, nullable=False, server_default="1"))
        table.add_column(
            sa.Column("queue_timeout_seconds", INT64, nullable=False, server_default="3600")
        )
    with op.batch_alter_table("runs") as table:
        table.add_column(sa.Column("runtime", sa.String(20), nullable=False, server_default="cpu"))
        table.add_column(sa.Column("attempts", INT64, nullable=False, server_default="0"))
        table.add_column(sa.Column("waiting_reason", sa.Text(), nullable=True))
        table.add_column(sa.Column("waiting_since", UTC, nullable=True))
    op.execute("UPDATE runs SET attempts = 1 WHERE status != 'CREATED'")


def downgrade() -> None:
    with op.batch_alter_table("runs") as table:
        for name in ("waiting_since", "waiting_reason", "attempts", "runtime"):
            table.drop_column(name)
    with op.batch_alter_table("competitions") as table:
        for name in ("queue_timeout_seconds", "run_cpus", "runtimes"):
            table.drop_column(name)
