"""The janitor: a daemon thread of the hub that deletes what nobody can use any more.

- uploads that expired unfinished or aborted (their file, lock file and row), and
  finished uploads that expired without a submission taking them (their row: the bytes
  are a content blob, handled below);
- files under `uploads/` whose upload is gone or closed (left by a PUT that raced an abort
  or a delete);
- content blobs that no submission file, data file, competition module, quickstarter file
  or live upload refers to.

Nothing goes until it has been out of use for the grace period: a push in progress (an
upload completed a moment ago, a competition being registered) never loses a blob. An
upload whose chunk PUT is still writing is left for the next sweep. Several hubs on one
root may each run a janitor: every deletion is safe to repeat.

Hubs on several machines (one PostgreSQL database, one bucket) each run a janitor too, but
only one of them sweeps the shared store's blobs at a time: the sweep lists the whole
store, and two at once would only double that work and its deletions. The one that finds
another at it skips the blobs this round (`blob_sweep_turn`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, text
from sqlalchemy.exc import DBAPIError

from crunch_cli.hub import uploads
from crunch_cli.hub.blobs import BlobKeyError, content_key
from crunch_cli.hub.models import (
    CompetitionModule,
    DataFile,
    QuickstarterFile,
    SubmissionFile,
    Upload,
    utcnow,
)
from crunch_cli.hub.store import HubStore

SWEEP_INTERVAL = timedelta(minutes=10)
FIRST_SWEEP_DELAY = timedelta(minutes=1)
GRACE = timedelta(hours=1)
# pg_try_advisory_lock's key for the blob sweep ("crunch_j"); the migrations take "crunch_h"
# (`crunch_cli.hub.db`), the scheduler's election "crunch_s" (`crunch_cli.hub.election`).
BLOB_SWEEP_LOCK_KEY = 0x6372756E63685F6A

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SweepReport:
    """What a sweep removed; `blobs_skipped`: another hub was sweeping the blobs."""

    uploads: int
    upload_files: int
    blobs: int
    blobs_skipped: bool = False


class Janitor:
    def __init__(
        self,
        store: HubStore,
        *,
        interval: timedelta = SWEEP_INTERVAL,
        first_delay: timedelta = FIRST_SWEEP_DELAY,
        grace: timedelta = GRACE,
    ) -> None:
        self.store = store
        self.interval = interval
        self.first_delay = first_delay
        self.grace = grace
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="crunch-hub-janitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def sweep(self, now: datetime | None = None) -> SweepReport:
        """One pass over uploads and blobs, as of `now` (default: the current time)."""
        now = now or utcnow()
        cutoff = now - self.grace
        removed_uploads = sum(
            _remove_upload(self.store, upload_id, now) for upload_id in self._expired(now)
        )
        upload_files = self._remove_stray_upload_files(cutoff)
        with blob_sweep_turn(self.store) as mine:
            if not mine:
                return SweepReport(removed_uploads, upload_files, 0, blobs_skipped=True)
            referenced = self._referenced(cutoff)
            blobs = self.store.blobs.remove_unreferenced(referenced, cutoff.timestamp())
        return SweepReport(removed_uploads, upload_files, blobs)

    def _loop(self) -> None:
        wait = self.first_delay
        while not self._stopping.wait(wait.total_seconds()):
            try:
                report = self.sweep()
            except Exception:
                logger.exception("the janitor's sweep failed; it tries again later")
            else:
                if report.blobs_skipped:
                    logger.info("janitor: another hub is sweeping the stored files")
                if (report.uploads, report.upload_files, report.blobs) != (0, 0, 0):
                    logger.info("janitor: %s", report)
            wait = self.interval

    def _expired(self, now: datetime) -> list[str]:
        with self.store.session(write=False) as session:
            return list(session.scalars(select(Upload.id).where(_removable(now))))

    def _referenced(self, cutoff: datetime) -> set[str]:
        """Every content key in use; an upload stays a user of its blob for the grace
        period past its expiry, so a submission made at the last moment keeps it.
        """
        with self.store.session(write=False) as session:
            keys = set(session.scalars(select(SubmissionFile.blob_key)))
            keys.update(session.scalars(select(DataFile.blob_key)))
            keys.update(session.scalars(select(CompetitionModule.blob_key)))
            keys.update(session.scalars(select(QuickstarterFile.blob_key)))
            live = select(Upload.sha256).where(Upload.expires_at > cutoff)
            keys.update(content_key(sha256) for sha256 in session.scalars(live) if sha256)
        return keys

    def _remove_stray_upload_files(self, cutoff: datetime) -> int:
        """Files of uploads (data or lock) whose upload is no longer open."""
        leftovers = list(self.store.blobs.upload_leftovers())
        if not leftovers:
            return 0
        with self.store.session(write=False) as session:
            still_open = set(
                session.scalars(select(Upload.id).where(Upload.status.in_(uploads.OPEN_STATUSES)))
            )
        removed = 0
        for upload_id, changed in leftovers:
            if upload_id not in still_open and changed < cutoff.timestamp():
                removed += _remove_files(self.store, upload_id)
        return removed


@contextlib.contextmanager
def blob_sweep_turn(store: HubStore) -> Iterator[bool]:
    """Whether this hub may sweep the store's blobs now; False: another hub is at it.

    On PostgreSQL, hubs on other machines share the database, not a file system: the turn
    is a session advisory lock, tried without waiting, on a connection of its own for as
    long as the sweep lasts (the server drops it with the connection, should this hub
    die). On SQLite every hub is on this machine, and the store's lock file already keeps
    their sweeps apart (`gc_lock`): always True.
    """
    if store.engine.dialect.name != "postgresql":
        yield True
        return
    key = {"key": BLOB_SWEEP_LOCK_KEY}
    with store.engine.connect() as connection:
        taken = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key))
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
                    connection.commit()
                except DBAPIError:
                    # Never hand a connection holding the lock back to the pool: closing
                    # it releases the lock.
                    connection.invalidate()


def _removable(now: datetime) -> ColumnElement[bool]:
    """Expired uploads that hold nothing anyone uses: every one except a finished upload
    a submission took (its row stays, as the record of that file).
    """
    return and_(
        Upload.expires_at <= now,
        or_(Upload.status != "SUCCEEDED", Upload.used_at.is_(None)),
    )


def _remove_upload(store: HubStore, upload_id: str, now: datetime) -> bool:
    """Delete the upload's row and files, unless a chunk PUT is writing it right now."""
    lock = uploads.UploadLock(store, upload_id)
    try:
        if not lock.try_exclusive(0):
            return False
        with store.session() as session:
            upload = session.scalars(
                select(Upload).where(Upload.id == upload_id, _removable(now))
            ).one_or_none()
            if upload is None:
                return False
            session.delete(upload)
        store.blobs.discard_upload(upload_id)
        lock.remove()
        return True
    finally:
        lock.close()


def _remove_files(store: HubStore, upload_id: str) -> int:
    """Delete a closed upload's files, unless a chunk PUT still holds them."""
    try:
        lock = uploads.UploadLock(store, upload_id)
    except BlobKeyError:  # not a name the hub gives
        return 0
    try:
        if not lock.try_exclusive(0):
            return 0
        store.blobs.discard_upload(upload_id)
        lock.remove()
        return 1
    finally:
        lock.close()
