"""A throw-away PostgreSQL server for the tests: its own data folder, a loopback port.

PostgreSQL refuses to run as root, and CI runs as root: there the server runs as the
`postgres` user Debian's package makes (or `nobody`), from a folder in /tmp that user owns.
Authentication is `trust` on 127.0.0.1 only, and durability is off (fsync, full-page
writes): the data dies with the test session anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "crunch"
START_TIMEOUT_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    folder: Path
    bin_dir: Path
    port: int
    run_as: tuple[str, ...]

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new, empty database (or a copy of `template`); returns its SQLAlchemy URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.admin() as connection:
            connection.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop it even while a connection is still open on it."""
        with self.admin() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        pg_ctl = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir)]
        subprocess.run(
            [*self.run_as, *pg_ctl, "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def find_bin_dir() -> Path | None:
    """Where initdb, pg_ctl and postgres are: on the PATH, else Debian's newest version."""
    if on_path := shutil.which("initdb"):
        return Path(on_path).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def start(bin_dir: Path) -> PostgresServer:
    """initdb and start a server; raises RuntimeError with its log if it does not come up."""
    run_as, owner = _unprivileged_user()
    folder = Path(tempfile.mkdtemp(prefix="crunch-postgres-"))
    if owner is not None:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = PostgresServer(folder, bin_dir, _free_port(), run_as)
    initdb = [str(bin_dir / "initdb"), "-D", str(server.data_dir), "-U", SUPERUSER]
    _run(server, [*initdb, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
    options = [
        f"-p {server.port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={folder}",
        "-c max_connections=300",
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
    ]
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-l", str(folder / "log")]
    timeout = str(START_TIMEOUT_SECONDS)
    _run(server, [*pg_ctl, "-o", " ".join(options), "-w", "-t", timeout, "start"])
    return server


def _run(server: PostgresServer, command: list[str]) -> None:
    done = subprocess.run([*server.run_as, *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        log = ""
        with contextlib.suppress(OSError):
            log = (server.folder / "log").read_text()
        shutil.rmtree(server.folder, ignore_errors=True)
        raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}{log}")


def _unprivileged_user() -> tuple[tuple[str, ...], pwd.struct_passwd | None]:
    """The command prefix that drops root, and that user; nothing when not root."""
    if os.geteuid() != 0:
        return (), None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return ("runuser", "-u", name, "--"), pwd.getpwnam(name)
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
