"""The hub's schema: every process that opens the database brings it to the newest revision.

The revisions are alembic's, shipped in `crunch_cli/hub/migrations/`. Hubs and organizer
commands that start together on one database take turns: PostgreSQL holds an advisory
lock, SQLite a file lock beside the database, and whoever comes second finds the work done.
A database already at the newest revision costs one SELECT and no lock.

A root made before migrations existed has the hub's tables but no `alembic_version`: it is
brought to revision 0001's shape in place (the tables and nullable columns it lacks are
added; nothing is dropped or rewritten), stamped 0001, then upgraded like any other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Column, Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError

from crunch_cli.errors import CrunchError

# The revision a root made before migrations is brought to, then stamped with.
BASELINE = "0001"
VERSION_TABLE = "alembic_version"
# A table every hub ever made: its presence without VERSION_TABLE marks such a root.
LEGACY_MARKER = "competitions"
# pg_advisory_lock's key: any 64-bit number no other program on the database uses.
ADVISORY_LOCK_KEY = 0x6372756E63685F68  # "crunch_h"
# PostgreSQL gave up on a transaction that succeeds when sent again: a lock not granted
# within lock_timeout, a serialization failure, a deadlock.
_RETRY_SQLSTATES = frozenset({"55P03", "40001", "40P01"})
_DISK_FULL_SQLSTATE = "53100"
OPEN_HINT = (
    "check --database-url (or CRUNCH_HUB_DATABASE_URL): the server must be up and the user "
    "allowed to create tables in that database"
)
UPGRADE_HINT = "nothing was changed (the upgrade is one transaction): fix the cause, start again"


@dataclasses.dataclass(frozen=True)
class SchemaChange:
    """What opening the database did to its schema: `before` None is an empty database;
    `adopted` says it was a root made before migrations."""

    before: str | None
    after: str
    adopted: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings, made here rather than read from an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", "crunch_cli.hub:migrations")
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "crunch_cli/hub/migrations/versions/ holds no revision"
    return head


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def upgrade(engine: Engine, lock_path: Path | None) -> SchemaChange:
    """Bring the database to the newest revision; `lock_path` is the file SQLite's hubs
    take turns on (None: an in-memory database, which no other process sees)."""
    head = head_revision()
    shown = _shown(engine)
    opening = _errors_named(f"cannot open the hub's database {shown}", OPEN_HINT)
    # Read-only: on SQLite, a plain transaction would queue for the write lock.
    with opening, engine.connect().execution_options(read_only=True) as connection:
        current = _current_revision(connection)
    if current == head:
        return SchemaChange(current, head)
    if current is not None and current not in _known_revisions():
        raise CrunchError(
            f"the hub's database {shown} has schema revision {current}, which this "
            "crunch-cli-hub does not know: a newer version upgraded it",
            hint="run that version (pip install -U 'crunch-cli-hub[hub]'), or point "
            "--database-url at another database",
        )
    upgrading = _errors_named(f"cannot upgrade the hub's database {shown}", UPGRADE_HINT)
    with upgrading, engine.connect() as connection, _migration_lock(connection, lock_path):
        return _upgrade_locked(connection, head)


@contextlib.contextmanager
def _errors_named(message: str, hint: str) -> Iterator[None]:
    """The database's and alembic's errors as one CrunchError line, the password hidden."""
    try:
        yield
    except DBAPIError as error:
        raise CrunchError(f"{message}: {_first_line(error.orig)}", hint=hint) from error
    except CommandError as error:
        raise CrunchError(f"{message}: {error}", hint=hint) from error


def _upgrade_locked(connection: Connection, head: str) -> SchemaChange:
    """Adopt a root made before migrations, then run what revisions it lacks, all in one
    transaction: a hub that dies half-way leaves the database as it found it."""
    config = alembic_config(connection)
    with _foreign_keys_off(connection), connection.begin():
        before = _current_revision(connection)
        adopted = before is None and inspect(connection).has_table(LEGACY_MARKER)
        if adopted:
            _adopt(connection, _baseline_schema(config))
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    return SchemaChange(before, head, adopted)


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return MigrationContext.configure(connection).get_current_revision()


def _baseline_schema(config: Config) -> MetaData:
    script = ScriptDirectory.from_config(config).get_revision(BASELINE)
    assert script is not None and script.module is not None
    schema: MetaData = script.module.schema()
    return schema


def _adopt(connection: Connection, baseline: MetaData) -> None:
    """Add what the baseline has and the database lacks: tables, nullable columns, indexes.

    Every column added to a table since the hub's first release is nullable, so every
    root ever made can be brought up this way; a required column without a value for the
    rows already there is refused rather than guessed.
    """
    inspector = inspect(connection)
    operations = Operations(MigrationContext.configure(connection))
    for table in baseline.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(connection)
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise CrunchError(
                    f"the hub's table {table.name} lacks its required column {column.name}",
                    hint="this database was not made by crunch hub, or was changed by hand: "
                    "point --database-url at the hub's own database",
                )
            operations.add_column(table.name, Column(column.name, column.type, nullable=True))
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)


@contextlib.contextmanager
def _migration_lock(connection: Connection, lock_path: Path | None) -> Iterator[None]:
    """One migrating process at a time per database; held until the block ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
    elif lock_path is not None:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    else:
        yield


@contextlib.contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite changes a table by copying it into a new one and dropping the old: with
    foreign keys on, that drop would delete or refuse the rows that point at it. They are
    checked once the migration is done instead. A no-op on other databases."""
    if connection.dialect.name != "sqlite":
        yield
        return
    # Outside any transaction (the pragma is ignored inside one), on the driver itself:
    # SQLAlchemy would begin a transaction first.
    driver: Any = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = driver.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise CrunchError(
                f"the hub's database has rows pointing at rows that do not exist: {broken[:5]}",
                hint="restore the database from a backup",
            )
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def is_busy(error: DBAPIError) -> bool:
    """The database gave up on the transaction for now (SQLite's write lock, PostgreSQL's
    lock timeout or a deadlock): it was rolled back, and may be sent again as it was."""
    reason = error.orig
    return "database is locked" in str(reason) or _sqlstate(reason) in _RETRY_SQLSTATES


def is_full(error: DBAPIError) -> bool:
    """The disk under the database is full."""
    reason = error.orig
    return "database or disk is full" in str(reason) or _sqlstate(reason) == _DISK_FULL_SQLSTATE


def _sqlstate(reason: object) -> str | None:
    code = getattr(reason, "sqlstate", None)
    return code if isinstance(code, str) else None


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file beside a SQLite database file; None for any other database."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrations.lock")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
