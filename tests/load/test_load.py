"""Many competitors at once: 40 pushes and 20 run creations hit one hub concurrently,
every one succeeds, and the hub still runs submissions afterwards."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import crunch_cli
from crunch_cli.api import ProjectClient
from crunch_cli.environments import Settings
from crunch_cli.push.bundle import build_bundle
from crunch_cli.push.submit import submit
from crunch_cli.push.upload import CACHE_FILE, UploadCache
from crunch_cli.runs import create_run, follow_run
from crunch_cli.setup_project import setup_project
from crunch_cli.workspace import Workspace

pytestmark = pytest.mark.slow

COMPETITION = "demo-timeseries"
PUSHES = 40
RUNS = 20
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


def set_up(hub, base: Path, number: int) -> Workspace:
    """A workspace of its own (user and project) with the quickstarter in it."""
    token = hub.mint_token(COMPETITION, f"competitor{number}", "load")
    workspace = setup_project(
        competition=COMPETITION,
        project="load",
        token=token,
        base_url=hub.url,
        directory=base / f"workspace{number}",
        with_data=False,
    ).workspace
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace.root / name)
    return workspace


def push(workspace: Workspace) -> dict[str, Any]:
    """What `crunch push` does, as one competitor's client. The bundle (local work, each
    competitor in a process of their own) is built under a lock: CPython 3.11 (3.11.7
    here) can fail `ast.parse` running on two threads at once."""
    cache = UploadCache(workspace.metadata_dir / CACHE_FILE)
    with _PARSING:
        bundle = build_bundle(workspace, freeze=False, cache=cache)
    submission, _sent = submit(client(workspace), workspace, bundle, cache, message="under load")
    return submission


_PARSING = threading.Lock()


def client(workspace: Workspace) -> ProjectClient:
    """The workspace's client, as every command makes it."""
    return Settings().workspace(workspace).client()


def run(workspace: Workspace) -> dict[str, Any]:
    """What `crunch run create` does."""
    return create_run(client(workspace))


def terminate(workspace: Workspace, run_id: int) -> dict[str, Any]:
    return client(workspace).terminate_run(run_id)


def finished(workspace: Workspace, run_id: int) -> dict[str, Any]:
    *_lines, ended = follow_run(client(workspace), run_id, timeout=120)
    return ended


@pytest.mark.hub_workers(2)
def test_concurrent_pushes_and_runs_all_succeed_and_the_hub_still_runs_code(hub, tmp_path: Path):
    with ThreadPoolExecutor(PUSHES) as pool:
        workspaces = list(pool.map(lambda number: set_up(hub, tmp_path, number), range(PUSHES)))
        submissions = list(pool.map(push, workspaces))
        runs = list(pool.map(run, workspaces[:RUNS]))
        ended = list(pool.map(terminate, workspaces, [created["id"] for created in runs]))

    assert [submission["number"] for submission in submissions] == [1] * PUSHES
    assert {created["status"] for created in runs} == {"CREATED"}
    assert len({created["id"] for created in runs}) == RUNS
    assert {terminated["status"] for terminated in ended} == {"COMPLETED"}
    last = run(workspaces[-1])
    assert finished(workspaces[-1], last["id"])["success"] is True
