"""What the hub holds, read straight from its database: the figures push tests count."""

from __future__ import annotations


def received_bytes(hub) -> int:
    """Every upload byte the hub has taken in, across all uploads."""
    from sqlalchemy import func, select

    from crunch_cli.hub.models import Upload
    from crunch_cli.hub.store import HubStore

    with HubStore(hub.settings) as store, store.session() as session:
        return session.scalar(select(func.coalesce(func.sum(Upload.received_bytes), 0)))


def confirmed_chunks(hub) -> int:
    from sqlalchemy import func, select

    from crunch_cli.hub.models import UploadChunk
    from crunch_cli.hub.store import HubStore

    with HubStore(hub.settings) as store, store.session() as session:
        return session.scalar(select(func.count()).where(UploadChunk.completed))


def upload_statuses(hub) -> list[str]:
    from sqlalchemy import select

    from crunch_cli.hub.models import Upload
    from crunch_cli.hub.store import HubStore

    with HubStore(hub.settings) as store, store.session() as session:
        return sorted(session.scalars(select(Upload.status)))
