"""Alembic's entry point: runs the revisions on the connection `crunch_cli.hub.db` opened.

`render_as_batch` lets a later revision alter a column or constraint on SQLite, which can
only do it by rebuilding the table.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from crunch_cli.hub.models import Base


def run_migrations() -> None:
    connection: Connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
