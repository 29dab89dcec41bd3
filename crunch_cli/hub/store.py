"""Open a hub's state from its settings: database, file store and signing key
(`crunch_cli.hub.keys`).

Both the HTTP app and the organizer commands go through `HubStore`, so a `crunch hub token`
run while the server is up works on the very same files (SQLite in WAL mode lets them
share the database).

On SQLite, a transaction that may write starts with `BEGIN IMMEDIATE`: it takes the write
lock first and waits for it (the busy timeout) instead of reading, then failing at once with
"database is locked" when another writer committed in between, and it makes a
read-check-write (the next submission number, today's count) exact under concurrency.
Read-only transactions start deferred, so readers never queue behind writers.

On PostgreSQL (`--database-url postgresql+psycopg://...`) several hub processes may share
the database: transactions are READ COMMITTED, and the read-check-writes lock the rows they
depend on (`SELECT ... FOR UPDATE`, which SQLite ignores). A lock not granted within the
busy timeout fails the transaction like SQLite's "database is locked" does.

Opening a store brings the schema to the newest revision first (`crunch_cli.hub.db`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from crunch_cli.errors import CrunchError
from crunch_cli.hub import db, keys
from crunch_cli.hub.blobstores import BlobStorage, open_blob_store
from crunch_cli.hub.settings import HubSettings

# Well below the clients' own 30 s timeout: a writer that waits longer gets HUB_BUSY
# (503, Retry-After) in time for the client to try again.
BUSY_TIMEOUT_SECONDS = 10
# Connections beyond one per request in flight: every run worker with its log and
# termination threads, the janitor, the organizer's commands.
SPARE_CONNECTIONS = 16


class HubStore:
    """The hub's database and file store; create one per process and `close()` it."""

    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        try:
            settings.root.mkdir(parents=True, exist_ok=True)
            self.secret = keys.load_signing_key(settings)
        except OSError as error:
            raise CrunchError(
                f"cannot use {settings.root} as the hub's folder: {error.strerror or error}",
                hint="pass a writable folder with --root",
            ) from error
        self.blobs: BlobStorage = open_blob_store(settings, self.secret)
        pool_size = settings.max_requests_in_flight + 3 * settings.workers + SPARE_CONNECTIONS
        self.engine = _make_engine(settings.resolved_database_url, pool_size)
        try:
            self.schema = db.upgrade(self.engine, db.sqlite_lock_path(self.engine))
        except BaseException:
            self.engine.dispose()
            raise
        self._writers = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(read_only=True), expire_on_commit=False
        )

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        `write=False` promises the block only reads: on SQLite it then does not queue for
        the write lock.
        """
        sessions = self._writers if write else self._readers
        with sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> HubStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def upgrade_database(settings: HubSettings) -> db.SchemaChange:
    """`crunch hub db upgrade`: bring the hub's database to the newest schema, and say how.

    Every hub and organizer command does it anyway when it opens the database; this is
    for doing it ahead of a start, or checking a database URL.
    """
    with HubStore(settings) as store:
        return store.schema


def _make_engine(url: str, pool_size: int) -> Engine:
    """A connection for every thread that may ask for one at once: a request waiting for
    a free connection would hold its thread for nothing."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_engine(parsed, pool_size)
    if parsed.get_backend_name() != "sqlite":
        return _checked(
            lambda: create_engine(parsed, pool_pre_ping=True, pool_size=16, max_overflow=pool_size)
        )
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=0,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); pysqlite's own would always be deferred.
        connection.isolation_level = None
        # WAL lets the organizer CLI write while the server reads; foreign keys are off
        # by default in SQLite.
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def _parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise CrunchError(
            f"{url!r} is not a database URL",
            hint="pass --database-url postgresql+psycopg://USER:PASSWORD@HOST/DATABASE, "
            "or leave it out for ROOT/hub.sqlite3",
        ) from error
    # postgresql:// (and Heroku's postgres://) would pick psycopg2, which the hub lacks.
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _postgresql_engine(url: URL, pool_size: int) -> Engine:
    """Lock waits end after the busy timeout, as on SQLite: the request answers HUB_BUSY
    (503) instead of holding its thread and connection behind a stuck transaction."""
    timeout_ms = round(BUSY_TIMEOUT_SECONDS * 1000)
    return _checked(
        lambda: create_engine(
            url,
            pool_pre_ping=True,
            # A database server holds a process per connection: keep few idle ones.
            pool_size=16,
            max_overflow=pool_size,
            connect_args={"options": f"-c lock_timeout={timeout_ms}"},
        )
    )


def _checked(make: Callable[[], Engine]) -> Engine:
    """The engine, or a CrunchError naming the driver to install."""
    try:
        return make()
    except (ImportError, NoSuchModuleError) as error:
        raise CrunchError(
            f"no driver for this database URL: {error}",
            hint="install the hub's extras (pip install 'crunch-cli-hub[hub]'): PostgreSQL "
            "URLs take postgresql+psycopg://",
        ) from error
