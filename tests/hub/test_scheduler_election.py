"""Hubs on one PostgreSQL database elect one scheduler: only it claims queued runs, and
when it dies another takes over within seconds (`crunch_cli.hub.election`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubs import Caller, make_caller, serve_hub
from sqlalchemy import create_engine, select

from crunch_cli.hub.election import FOLLOWING, LEADING, SchedulerElection
from crunch_cli.hub.models import Run
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.parametrize("hub_database", ["postgresql"], indirect=True)

MAIN = b"""\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""
START_TIMEOUT = 30.0
# The follower tries the lock every RETRY_SECONDS (3) and polls the queue every second.
TAKEOVER_SECONDS = 8.0


@pytest.fixture
def hub_process(
    hub_root: Path, hub_database_url: str, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A `crunch hub serve` process on the test's root and database, and its log file."""
    log = tmp_path / "hub-process.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "crunch_cli", "hub", "serve", "--port", "0",
             "--root", str(hub_root), "--database-url", hub_database_url, "--workers", "1"],
            stdout=sink, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        yield process, log
    finally:
        process.kill()
        process.wait(10)


def wait_for_line(log: Path, *texts: str) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        content = log.read_text()
        for wanted in texts:
            if wanted in content:
                return wanted
        time.sleep(0.05)
    raise AssertionError(f"none of {texts} in the hub's log:\n{log.read_text()}")


def worker_of(settings: HubSettings, run_id: int) -> str | None:
    with HubStore(settings) as store, store.session(write=False) as session:
        return session.scalar(select(Run.worker).where(Run.id == run_id))


def queue(caller: Caller, submission: int, count: int) -> list[int]:
    return [caller.create_run(submission)["id"] for _ in range(count)]


def test_only_the_elected_hub_claims_and_another_takes_over_when_it_is_killed(
    hub_process, hub_root, hub_database_url
):
    process, log = hub_process
    assert wait_for_line(log, LEADING, FOLLOWING) == LEADING

    with serve_hub(hub_root, 1, database_url=hub_database_url) as follower:
        caller = make_caller(follower)
        pushed = caller.submit({"main.py": MAIN})
        assert pushed.status_code == 200, pushed.text
        submission = pushed.json()["id"]
        before = [caller.wait_for_run(run_id) for run_id in queue(caller, submission, 2)]
        claimed_by = [worker_of(follower.settings, run["id"]) for run in before]

        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed = time.monotonic()
        [after_id] = queue(caller, submission, 1)
        while (worker := worker_of(follower.settings, after_id)) is None:
            assert time.monotonic() - killed < TAKEOVER_SECONDS, "nobody claimed the run"
            time.sleep(0.05)
        taken_over_in = time.monotonic() - killed
        after = caller.wait_for_run(after_id)

    assert [run["success"] for run in before] == [True, True], before
    assert all(f":{process.pid}:" in (worker or "") for worker in claimed_by), claimed_by
    assert f":{os.getpid()}:" in worker
    assert taken_over_in < TAKEOVER_SECONDS
    assert after["success"] is True, after


def test_the_lock_passes_to_a_waiting_hub_when_the_scheduler_stops(hub_database_url):
    engine = create_engine(hub_database_url)
    took_over: list[bool] = []
    first = SchedulerElection(engine, retry_seconds=0.1)
    second = SchedulerElection(engine, retry_seconds=0.1, on_lead=lambda: took_over.append(True))
    try:
        first.start()
        second.start()
        both_started = (first.leading, second.leading)
        first.stop()
        deadline = time.monotonic() + 5
        while not second.leading and time.monotonic() < deadline:
            time.sleep(0.02)
        took_over_leading = second.leading
    finally:
        first.stop()
        second.stop()
        engine.dispose()

    assert both_started == (True, False)
    assert took_over_leading is True
    assert took_over == [True]
