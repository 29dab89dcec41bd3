"""The hub's schema comes from its migrations: a new database is created by them, a root
made before they existed is completed in place with every row kept, hubs starting together
migrate once, and a database from a newer hub is refused rather than damaged."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hubs import Caller, make_caller, serve_hub
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.errors import CrunchError
from crunch_cli.hub import HubSettings
from crunch_cli.hub.db import head_revision
from crunch_cli.hub.models import Base
from crunch_cli.hub.store import HubStore

COMPETITION = "demo-timeseries"
LEGACY_TOKEN = "a-project-token-minted-by-an-old-hub"

# The schema of a hub made before migrations (late November 2026), as that hub's
# create_all wrote it: no uploads.used_at, project_tokens.revoked_at or runs.worker, and
# none of the tables for run metrics and modules, competition modules and metrics,
# quickstarters or library requests.
OLD_SCHEMA = """
CREATE TABLE competitions (
    id INTEGER NOT NULL, name VARCHAR(100) NOT NULL, display_name VARCHAR(200) NOT NULL,
    short_description TEXT NOT NULL, format VARCHAR(20) NOT NULL, metric VARCHAR(20) NOT NULL,
    embargo INTEGER NOT NULL, id_column VARCHAR(100) NOT NULL, moon_column VARCHAR(100),
    target_column VARCHAR(100) NOT NULL, prediction_column VARCHAR(100) NOT NULL,
    features JSON NOT NULL, splits JSON NOT NULL, run_time_limit_seconds INTEGER NOT NULL,
    run_memory_limit_mb INTEGER NOT NULL, max_code_size BIGINT NOT NULL,
    max_model_size BIGINT NOT NULL, submissions_per_day INTEGER NOT NULL,
    created_at DATETIME NOT NULL, PRIMARY KEY (id), UNIQUE (name)
);
CREATE TABLE users (
    id INTEGER NOT NULL, login VARCHAR(100) NOT NULL, created_at DATETIME NOT NULL,
    PRIMARY KEY (id), UNIQUE (login)
);
CREATE TABLE checks (
    id INTEGER NOT NULL, competition_id INTEGER NOT NULL, function VARCHAR(50) NOT NULL,
    scope VARCHAR(10) NOT NULL, "order" INTEGER NOT NULL, parameters JSON NOT NULL,
    PRIMARY KEY (id), FOREIGN KEY(competition_id) REFERENCES competitions (id)
);
CREATE TABLE data_files (
    id INTEGER NOT NULL, competition_id INTEGER NOT NULL, "key" VARCHAR(50) NOT NULL,
    name VARCHAR(200) NOT NULL, blob_key VARCHAR(200) NOT NULL, size BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL, hidden BOOLEAN NOT NULL, PRIMARY KEY (id),
    UNIQUE (competition_id, hidden, "key"),
    FOREIGN KEY(competition_id) REFERENCES competitions (id)
);
CREATE TABLE projects (
    id INTEGER NOT NULL, competition_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    name VARCHAR(100) NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id),
    UNIQUE (competition_id, user_id, name),
    FOREIGN KEY(competition_id) REFERENCES competitions (id),
    FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE TABLE rounds (
    id INTEGER NOT NULL, competition_id INTEGER NOT NULL, number INTEGER NOT NULL,
    start DATETIME NOT NULL, "end" DATETIME NOT NULL, PRIMARY KEY (id),
    UNIQUE (competition_id, number), FOREIGN KEY(competition_id) REFERENCES competitions (id)
);
CREATE TABLE clone_tokens (
    id INTEGER NOT NULL, project_id INTEGER NOT NULL, token_sha256 VARCHAR(64) NOT NULL,
    created_at DATETIME NOT NULL, expires_at DATETIME NOT NULL, used_at DATETIME,
    PRIMARY KEY (id), FOREIGN KEY(project_id) REFERENCES projects (id), UNIQUE (token_sha256)
);
CREATE TABLE phases (
    id INTEGER NOT NULL, round_id INTEGER NOT NULL, type VARCHAR(20) NOT NULL,
    start DATETIME NOT NULL, "end" DATETIME NOT NULL, PRIMARY KEY (id),
    UNIQUE (round_id, type), FOREIGN KEY(round_id) REFERENCES rounds (id)
);
CREATE TABLE project_tokens (
    id INTEGER NOT NULL, project_id INTEGER NOT NULL, token_sha256 VARCHAR(64) NOT NULL,
    type VARCHAR(20) NOT NULL, created_at DATETIME NOT NULL, valid_until DATETIME,
    PRIMARY KEY (id), FOREIGN KEY(project_id) REFERENCES projects (id), UNIQUE (token_sha256)
);
CREATE TABLE submissions (
    id INTEGER NOT NULL, project_id INTEGER NOT NULL, number INTEGER NOT NULL,
    type VARCHAR(20) NOT NULL, message TEXT NOT NULL, main_file_path VARCHAR(500) NOT NULL,
    model_directory_path VARCHAR(500) NOT NULL, total_size BIGINT NOT NULL,
    submitter_imprint VARCHAR(200), created_at DATETIME NOT NULL, PRIMARY KEY (id),
    UNIQUE (project_id, number), FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE uploads (
    id VARCHAR(40) NOT NULL, project_id INTEGER NOT NULL, name VARCHAR(500) NOT NULL,
    size BIGINT NOT NULL, media_type VARCHAR(200) NOT NULL, encrypted BOOLEAN NOT NULL,
    status VARCHAR(20) NOT NULL, status_message TEXT, sha256 VARCHAR(64),
    received_bytes BIGINT NOT NULL, created_at DATETIME NOT NULL, expires_at DATETIME NOT NULL,
    PRIMARY KEY (id), FOREIGN KEY(project_id) REFERENCES projects (id)
);
CREATE TABLE runs (
    id INTEGER NOT NULL, project_id INTEGER NOT NULL, submission_id INTEGER NOT NULL,
    status VARCHAR(20) NOT NULL, success BOOLEAN, terminated BOOLEAN NOT NULL,
    exit_reason VARCHAR(20), exit_code INTEGER, error_message TEXT,
    train_frequency INTEGER NOT NULL, force_first_train BOOLEAN NOT NULL,
    metric VARCHAR(20) NOT NULL, score FLOAT, created_at DATETIME NOT NULL,
    started_at DATETIME, ended_at DATETIME, PRIMARY KEY (id),
    FOREIGN KEY(project_id) REFERENCES projects (id),
    FOREIGN KEY(submission_id) REFERENCES submissions (id)
);
CREATE INDEX ix_runs_project_id ON runs (project_id);
CREATE INDEX ix_runs_status ON runs (status);
CREATE TABLE submission_files (
    id INTEGER NOT NULL, submission_id INTEGER NOT NULL, kind VARCHAR(10) NOT NULL,
    path VARCHAR(500) NOT NULL, blob_key VARCHAR(200) NOT NULL, size BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL, media_type VARCHAR(200) NOT NULL, PRIMARY KEY (id),
    FOREIGN KEY(submission_id) REFERENCES submissions (id)
);
CREATE TABLE upload_chunks (
    id INTEGER NOT NULL, upload_id VARCHAR(40) NOT NULL, number INTEGER NOT NULL,
    "offset" BIGINT NOT NULL, size BIGINT NOT NULL, hash VARCHAR(64),
    completed BOOLEAN NOT NULL, completed_at DATETIME, PRIMARY KEY (id),
    UNIQUE (upload_id, number), FOREIGN KEY(upload_id) REFERENCES uploads (id) ON DELETE CASCADE
);
CREATE TABLE run_logs (
    id INTEGER NOT NULL, run_id INTEGER NOT NULL, emitter VARCHAR(10) NOT NULL,
    error BOOLEAN NOT NULL, content TEXT NOT NULL, created_at DATETIME NOT NULL,
    PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES runs (id)
);
CREATE INDEX ix_run_logs_run_id ON run_logs (run_id);
"""
COMPETITION_TABLES = ("competitions", "rounds", "phases", "data_files", "checks")
BEFORE = "2026-11-23 10:00:00.000000"
LATER = "2026-11-23 10:05:00.000000"
# A participant's history on the old hub: alice pushed submission #1 of project alpha, which
# ran and scored; her setup token was spent for the project token she still holds.
PARTICIPANT_ROWS = f"""
INSERT INTO users VALUES (1, 'alice', '{BEFORE}');
INSERT INTO projects VALUES (1, 1, 1, 'alpha', '{BEFORE}');
INSERT INTO clone_tokens VALUES (1, 1, '{"0" * 64}', '{BEFORE}', '{BEFORE}', '{BEFORE}');
INSERT INTO project_tokens
    VALUES (1, 1, '{hashlib.sha256(LEGACY_TOKEN.encode()).hexdigest()}', 'PERMANENT',
            '{BEFORE}', NULL);
INSERT INTO uploads VALUES ('upload-1', 1, 'main.py', 5, 'text/x-python', 0, 'SUCCEEDED',
    NULL, '{"1" * 64}', 5, '{BEFORE}', '2099-01-01 00:00:00.000000');
INSERT INTO upload_chunks VALUES (1, 'upload-1', 0, 0, 5, '{"1" * 64}', 1, '{BEFORE}');
INSERT INTO submissions VALUES (1, 1, 1, 'CODE', 'before migrations', 'main.py',
    'resources', 5, 'tests', '{BEFORE}');
INSERT INTO submission_files VALUES (1, 1, 'code', 'main.py', 'sha256/{"1" * 64}', 5,
    '{"1" * 64}', 'text/x-python');
INSERT INTO runs VALUES (1, 1, 1, 'COMPLETED', 1, 0, NULL, 0, NULL, 1, 1, 'spearman', 0.25,
    '{BEFORE}', '{BEFORE}', '{LATER}');
INSERT INTO run_logs VALUES (1, 1, 'user', 0, 'training on 3000 rows', '{BEFORE}');
INSERT INTO run_logs VALUES (2, 1, 'hub', 0, 'score: spearman 0.2500', '{LATER}');
"""
NEW_TABLES = {
    "run_metrics",
    "run_modules",
    "competition_modules",
    "competition_metrics",
    "quickstarters",
    "quickstarter_files",
    "library_requests",
}


def make_old_root(root: Path) -> None:
    """Turn a current root into one made before migrations: the same competitions (and
    their blobs), in a database of the old shape, with alice's history added."""
    current = root / "hub.sqlite3"
    shutil.move(current, root / "current.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(f"{current}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(current) as database:
        database.executescript(OLD_SCHEMA)
        database.execute("ATTACH DATABASE ? AS current", (str(root / "current.sqlite3"),))
        for table in COMPETITION_TABLES:
            columns = ", ".join(
                f'"{row[1]}"' for row in database.execute(f"PRAGMA table_info({table})")
            )
            database.execute(
                f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM current.{table}"
            )
        database.commit()
        database.execute("DETACH DATABASE current")
        database.executescript(PARTICIPANT_ROWS)
    (root / "current.sqlite3").unlink()


def every_row(database_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """The rows of each table of the old schema, in its columns only."""
    with sqlite3.connect(database_path) as database:
        return {
            table: database.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"
            ).fetchall()
            for table, columns in OLD_COLUMNS.items()
        }


def _old_columns() -> dict[str, list[str]]:
    with sqlite3.connect(":memory:") as database:
        database.executescript(OLD_SCHEMA)
        tables = [
            row[0]
            for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            table: [f'"{row[1]}"' for row in database.execute(f"PRAGMA table_info({table})")]
            for table in tables
        }


OLD_COLUMNS = _old_columns()


# Roots made before migrations were SQLite ones, whatever --hub-database says.
old_sqlite_root = pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)


def hub_db_upgrade(root: Path, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["hub", "db", "upgrade", "--root", str(root), *options])
    return result.exit_code, result.output


@old_sqlite_root
def test_an_organizer_upgrades_a_root_made_before_migrations_and_keeps_every_row(hub_root):
    make_old_root(hub_root)
    before = every_row(hub_root / "hub.sqlite3")

    status, output = hub_db_upgrade(hub_root)

    assert status == 0, output
    assert (
        output == f"database made before migrations: completed, now at revision {head_revision()}\n"
    )
    assert every_row(hub_root / "hub.sqlite3") == before
    assert sum(len(rows) for rows in before.values()) > 20
    with sqlite3.connect(hub_root / "hub.sqlite3") as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
        assert tables >= NEW_TABLES
        assert database.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
        assert database.execute("SELECT used_at FROM uploads").fetchall() == [(None,)]
        assert database.execute("SELECT revoked_at FROM project_tokens").fetchall() == [(None,)]
        assert database.execute("SELECT worker FROM runs").fetchall() == [(None,)]
    assert hub_db_upgrade(hub_root) == (
        0,
        f"database already at the newest revision, {head_revision()}\n",
    )


@old_sqlite_root
def test_a_hub_started_on_a_root_made_before_migrations_serves_its_history_and_takes_new_pushes(
    hub_root,
):
    make_old_root(hub_root)

    with serve_hub(hub_root, workers=0) as hub:
        alice = Caller(hub.url, LEGACY_TOKEN, 1, "alpha", COMPETITION)
        assert alice.call("GET", "/v2/users/@me").json()["login"] == "alice"
        (submission,) = alice.call("GET", alice.project_path(3) + "/submissions").json()
        assert (submission["number"], submission["message"]) == (1, "before migrations")
        run = alice.run(1)
        assert (run["status"], run["success"], run["score"]) == ("COMPLETED", True, 0.25)
        assert [line["content"] for line in alice.run_logs(1)] == [
            "training on 3000 rows",
            "score: spearman 0.2500",
        ]
        board = alice.call("GET", f"/v2/competitions/{COMPETITION}/leaderboards/@default").json()
        assert [(entry["userLogin"], entry["score"]) for entry in board["entries"]] == [
            ("alice", 0.25)
        ]

        pushed = alice.submit({"main.py": b"def train(): pass\ndef infer(): pass\n"})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["number"] == 2
        assert alice.create_run(pushed.json()["id"])["status"] == "CREATED"

        bob = make_caller(hub, "bob", "beta")
        assert bob.call("GET", "/v2/users/@me").json()["login"] == "bob"


@pytest.fixture
def empty_database_url(request, hub_database, tmp_path) -> str:
    """A database with no table yet: a file in the test's folder, or a new PostgreSQL one."""
    if hub_database == "sqlite":
        return f"sqlite:///{tmp_path / 'new.sqlite3'}"
    return request.getfixturevalue("postgres").create_database(f"new_{uuid.uuid4().hex[:12]}")


@pytest.mark.both_databases
def test_a_new_database_gets_exactly_the_schema_of_the_models(tmp_path, empty_database_url):
    settings = HubSettings(tmp_path / "root", database_url=empty_database_url)

    with HubStore(settings) as store, store.engine.connect() as connection:
        assert (store.schema.before, store.schema.after) == (None, head_revision())
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )

    assert differences == []


@pytest.mark.both_databases
def test_hubs_starting_together_on_a_new_database_create_its_schema_once(
    tmp_path, empty_database_url
):
    settings = HubSettings(tmp_path / "root", database_url=empty_database_url)
    barrier = threading.Barrier(4)
    befores: list[str | None] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            with HubStore(settings) as store:
                befores.append(store.schema.before)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sorted(befores, key=str) == [head_revision()] * 3 + [None]


@pytest.mark.both_databases
def test_a_database_upgraded_by_a_newer_hub_is_refused_untouched(tmp_path, empty_database_url):
    settings = HubSettings(tmp_path / "root", database_url=empty_database_url)
    with HubStore(settings) as store, store.session() as session:
        session.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))

    with pytest.raises(CrunchError) as refused:
        HubStore(settings)

    assert "has schema revision from-the-future" in refused.value.message
    assert "a newer version upgraded it" in refused.value.message
    assert "pip install -U 'crunch-cli-hub[hub]'" in (refused.value.hint or "")
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert version == [("from-the-future",)]


def test_an_unreachable_database_is_named_without_its_password(tmp_path):
    HubStore(HubSettings(tmp_path)).close()  # a hub ran in this folder before

    status, output = hub_db_upgrade(
        tmp_path, "--database-url", "postgresql://alice:s3cret@127.0.0.1:9/hub"
    )

    assert status == 1
    assert "cannot open the hub's database postgresql+psycopg://alice:***@127.0.0.1:9/hub" in output
    assert "s3cret" not in output
