"""A hub serving as many requests as it allows, or whose database another process holds,
turns requests away with `HUB_BUSY` and `Retry-After` instead of stalling or failing, and
our client sends them again, a POST included."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from crunch_cli.api import HubClient
from crunch_cli.hub import organizer, store
from crunch_cli.hub.server import RunningServer, serve_in_thread
from crunch_cli.hub.settings import DATABASE_FILE, HubSettings

COMPETITION = "demo-timeseries"


@pytest.fixture
def small_hub(hub_root: Path) -> Iterator[RunningServer]:
    """A hub that serves one request at a time."""
    with serve_in_thread(HubSettings(hub_root, max_requests_in_flight=1)) as server:
        yield server


@pytest.fixture
def impatient_hub(hub_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """A hub that waits half a second, not half a minute, for SQLite's write lock."""
    monkeypatch.setattr(store, "BUSY_TIMEOUT_SECONDS", 0.5)
    with serve_in_thread(HubSettings(hub_root, workers=0)) as server:
        yield server


def project_client(hub: RunningServer) -> tuple[HubClient, list[int]]:
    """A client of alice's project, and the status of every answer it gets, in order (the
    session's own retries of GET and PUT aside)."""
    setup_token = organizer.mint_setup_token(hub.settings, COMPETITION, "alice", "alpha")
    client = HubClient(hub.url, HubClient(hub.url).upgrade_token(setup_token)["plain"])
    statuses: list[int] = []
    client.session.hooks["response"].append(
        lambda response, **_: statuses.append(response.status_code)
    )
    return client, statuses


class HeldRequest:
    """A chunk PUT whose body arrives only once `release()` is called: a request the hub
    is serving for as long as the test wants."""

    def __init__(self, client: HubClient) -> None:
        upload = client.create_upload("held.bin", 1, 1)
        signed = client.call("GET", f"/v1/uploads/{upload['id']}/chunks/1/request")
        self._go = threading.Event()
        self._sending = threading.Event()
        self.response: requests.Response | None = None
        self._thread = threading.Thread(target=self._send, args=(signed,), daemon=True)
        self._thread.start()
        assert self._sending.wait(10)

    def _body(self) -> Iterator[bytes]:
        self._sending.set()
        self._go.wait(30)
        yield b"x"

    def _send(self, signed: dict[str, Any]) -> None:
        self.response = requests.put(signed["url"], data=self._body(), timeout=30)

    def release(self) -> requests.Response:
        self._go.set()
        self._thread.join(30)
        assert self.response is not None
        return self.response


def wait_for_busy(url: str) -> requests.Response:
    """The first answer once the held request has reached the hub."""
    for _ in range(200):
        response = requests.get(url + "/v2/competitions", timeout=10)
        if response.status_code == 503:
            return response
        threading.Event().wait(0.02)
    raise AssertionError("the hub never turned a request away")


def create_upload_in_background(client: HubClient, statuses: list[int]) -> Any:
    """Start a POST; return once the hub has answered it for the first time."""
    created: list[dict[str, Any]] = []
    posting = threading.Thread(target=lambda: created.append(client.create_upload("a", 1, 1)))
    answered = len(statuses)
    posting.start()
    while len(statuses) == answered:
        threading.Event().wait(0.01)

    def result() -> dict[str, Any]:
        posting.join(30)
        return created[0]

    return result


def test_a_full_hub_answers_busy_at_once_instead_of_stalling(small_hub):
    client, _statuses = project_client(small_hub)
    held = HeldRequest(client)

    busy = wait_for_busy(small_hub.url)

    assert busy.json()["code"] == "HUB_BUSY"
    assert busy.headers["Retry-After"] == "1"
    assert held.release().status_code == 200
    assert requests.get(small_hub.url + "/v2/competitions", timeout=10).status_code == 200


def test_our_client_sends_a_post_again_once_a_busy_hub_has_room(small_hub):
    client, statuses = project_client(small_hub)
    held = HeldRequest(client)
    wait_for_busy(small_hub.url)
    del statuses[:]

    created = create_upload_in_background(client, statuses)
    held.release()

    assert created()["status"] == "PENDING"
    assert statuses == [503, 200]


def test_a_write_the_database_cannot_take_now_is_busy_and_sent_again(impatient_hub):
    client, statuses = project_client(impatient_hub)
    del statuses[:]
    # Another process (an organizer command, a second hub) holding the write lock.
    other = sqlite3.connect(impatient_hub.settings.root / DATABASE_FILE, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    created = create_upload_in_background(client, statuses)
    reading = requests.get(impatient_hub.url + "/v2/competitions", timeout=10)
    other.execute("ROLLBACK")

    assert created()["status"] == "PENDING"
    assert statuses == [503, 200]
    assert reading.status_code == 200
