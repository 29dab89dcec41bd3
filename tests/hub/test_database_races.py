"""Requests racing on one database: users and projects made on first use stay one of each
(SQLite lets one writer through at a time, PostgreSQL lets them race to the unique
constraint, and the loser takes what the winner made), and a write kept waiting on a row
lock answers HUB_BUSY instead of stalling."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from test_web import mint

from crunch_cli.hub import organizer, store
from crunch_cli.hub.models import Project
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.both_databases

COMPETITION = "demo-timeseries"
AT_ONCE = 6


def all_at_once(action: Callable[[int], object]) -> list[object]:
    """`action(0)` ... `action(AT_ONCE - 1)`, each in its own thread, released together;
    their results, or the exceptions they raised."""
    barrier = threading.Barrier(AT_ONCE)
    results: list[object] = [None] * AT_ONCE

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_an_organizer_minting_tokens_at_once_for_a_new_user_makes_one_user(hub, new_caller):
    tokens = all_at_once(
        lambda index: organizer.mint_setup_token(
            hub.settings, COMPETITION, "zoe", f"project-{index % 2}"
        )
    )

    assert all(isinstance(token, str) for token in tokens), tokens
    callers = [new_caller(hub, "zoe", f"project-{index}") for index in range(2)]
    assert {caller.user_id for caller in callers} == {callers[0].user_id}


def test_the_setup_box_asked_at_once_for_one_new_project_gives_one_token(hub):
    responses = all_at_once(lambda _index: mint(hub, COMPETITION, "yan", "fresh"))

    statuses = sorted(getattr(response, "status_code", response) for response in responses)
    assert statuses == [200] + [409] * (AT_ONCE - 1)


@pytest.mark.parametrize("hub_database", ["postgresql"], indirect=True)
def test_a_write_waiting_too_long_for_a_row_lock_is_busy_and_goes_through_when_sent_again(
    restartable_hub, new_caller, monkeypatch
):
    monkeypatch.setattr(store, "BUSY_TIMEOUT_SECONDS", 0.5)
    with restartable_hub(workers=0) as hub:
        caller = new_caller(hub)
        body = {"name": "main.py", "size": 1, "encrypted": False}
        # Another hub process in the middle of a write on alice's project: creating an
        # upload locks the project's row to count its quota.
        with HubStore(hub.settings) as other, other.session() as session:
            session.scalars(select(Project).where(Project.name == "alpha").with_for_update()).one()
            busy = caller.call("POST", "/v1/uploads", json=body)
        again = caller.call("POST", "/v1/uploads", json=body)

    assert busy.status_code == 503
    assert busy.json()["code"] == "HUB_BUSY"
    assert busy.headers["Retry-After"]
    assert again.status_code == 200, again.text
