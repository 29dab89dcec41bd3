"""Setup tokens become project tokens once, within their validity; project tokens open their
own project only, until they expire or are replaced, and are never stored in plain text."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from crunch_cli.hub import HubSettings, organizer
from crunch_cli.hub.models import Base
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.both_databases

COMPETITION = "demo-timeseries"


def upgrade(hub, token: str, current: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Project-Token {current}"} if current else {}
    return requests.post(
        f"{hub.url}/v2/project-tokens/upgrade", json={"cloneToken": token}, headers=headers
    )


def me(hub, token: str) -> requests.Response:
    return requests.get(
        f"{hub.url}/v2/users/@me", headers={"Authorization": f"Project-Token {token}"}
    )


def owner_setup_token(hub, token: str, path: str) -> requests.Response:
    return requests.post(
        f"{hub.url}/v3/competitions/{path}/setup-tokens",
        headers={"Authorization": f"Project-Token {token}"},
    )


def test_upgrading_a_setup_token_gives_a_project_token_for_that_project(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    response = upgrade(hub, setup_token)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "PERMANENT"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    valid_for = datetime.fromisoformat(body["validUntil"]) - now
    assert timedelta(days=89) < valid_for <= timedelta(days=90)
    assert len(body["plain"]) >= 32 and body["plain"] != setup_token
    assert body["project"]["name"] == "alpha"
    assert body["project"]["competitionId"] == 1
    assert me(hub, body["plain"]).json() == {"id": body["project"]["userId"], "login": "alice"}


def test_a_hub_without_token_expiry_says_its_tokens_never_expire(hub_root, hub_database_url):
    settings = HubSettings(hub_root, database_url=hub_database_url, project_token_ttl=None)
    with serve_in_thread(settings) as server:
        setup_token = organizer.mint_setup_token(settings, COMPETITION, "alice", "alpha")

        body = requests.post(
            f"{server.url}/v2/project-tokens/upgrade", json={"cloneToken": setup_token}
        ).json()

    assert body["validUntil"] is None


def test_a_setup_token_works_only_once(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")
    assert upgrade(hub, setup_token).status_code == 200

    again = upgrade(hub, setup_token)

    assert again.status_code == 401
    assert again.json() == {
        "code": "INVALID_PROJECT_TOKEN",
        "message": "the setup token is unknown, already used or expired",
        "tokenType": "CLONE",
    }


def test_an_expired_setup_token_is_refused(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")
    hub.expire_setup_tokens()

    response = upgrade(hub, setup_token)

    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_PROJECT_TOKEN"


def test_two_concurrent_upgrades_of_one_token_give_exactly_one_project_token(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def race() -> None:
        barrier.wait()
        statuses.append(upgrade(hub, setup_token).status_code)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * 7


def test_tokens_are_stored_hashed_never_in_plain_text(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")
    project_token = upgrade(hub, setup_token).json()["plain"]

    stored = stored_bytes(hub)

    assert len(stored) > 0
    assert setup_token.encode() not in stored
    assert project_token.encode() not in stored


def stored_bytes(hub) -> bytes:
    """What the database holds: SQLite's files as they are on disk (free pages and the
    write-ahead log included), else every row of every table."""
    if hub.settings.database_url is None:
        return b"".join(path.read_bytes() for path in hub.root.glob("hub.sqlite3*"))
    with HubStore(hub.settings) as store, store.engine.connect() as connection:
        rows = [
            repr(row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(select(table))
        ]
    return "\n".join(rows).encode()


def test_the_project_token_is_accepted_as_bearer_and_as_legacy_push_token(hub):
    project_token = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()["plain"]
    me = f"{hub.url}/v2/users/@me"

    bearer = requests.get(me, headers={"Authorization": f"Bearer {project_token}"})
    legacy = requests.get(me, params={"pushToken": project_token})

    assert bearer.json()["login"] == legacy.json()["login"] == "alice"


def test_calls_without_or_with_a_wrong_token_are_refused(hub):
    me = f"{hub.url}/v2/users/@me"

    missing = requests.get(me)
    wrong = requests.get(me, headers={"Authorization": "Project-Token not-a-real-token"})
    foreign = requests.get(me, headers={"Authorization": "API-Key abc"})

    assert (missing.status_code, missing.json()["code"]) == (401, "UNAUTHORIZED")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")
    assert wrong.json()["tokenType"] == "PROJECT"
    assert (foreign.status_code, foreign.json()["code"]) == (401, "UNAUTHORIZED")


def test_a_project_token_opens_only_its_own_project(hub):
    alice = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()
    upgrade(hub, hub.mint_token(COMPETITION, "alice", "second"))
    bob = upgrade(hub, hub.mint_token(COMPETITION, "bob", "beta")).json()
    headers = {"Authorization": f"Project-Token {alice['plain']}"}
    base = f"{hub.url}/v3/competitions/{COMPETITION}/projects"

    own = requests.get(f"{base}/@me/alpha", headers=headers)
    by_id = requests.get(f"{base}/{alice['project']['userId']}/alpha", headers=headers)
    sibling = requests.get(f"{base}/@me/second", headers=headers)
    other = requests.get(f"{base}/{bob['project']['userId']}/beta", headers=headers)
    missing = requests.get(f"{base}/@me/nothing", headers=headers)

    assert own.json()["id"] == by_id.json()["id"] == alice["project"]["id"]
    assert (sibling.status_code, sibling.json()["code"]) == (403, "ACCESS_DENIED")
    assert (other.status_code, other.json()["code"]) == (403, "ACCESS_DENIED")
    assert missing.status_code == 404
    assert missing.json()["code"] == "PROJECT_NOT_FOUND"
    assert missing.json()["competitionId"] == 1


def test_upgrading_with_the_current_token_revokes_it(hub):
    old = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()["plain"]

    new = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha"), current=old)

    assert new.status_code == 200
    assert me(hub, new.json()["plain"]).status_code == 200
    refused = me(hub, old)
    assert (refused.status_code, refused.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")
    assert refused.json()["tokenType"] == "PROJECT"


def test_upgrading_leaves_a_token_of_another_project_alone(hub):
    bob = upgrade(hub, hub.mint_token(COMPETITION, "bob", "beta")).json()["plain"]

    alice = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha"), current=bob)

    assert alice.status_code == 200
    assert me(hub, bob).json()["login"] == "bob"


def test_upgrading_without_a_current_token_keeps_the_others(hub):
    """The public client sends no token with its upgrade: every machine keeps working."""
    first = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()["plain"]

    second = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()["plain"]

    assert me(hub, first).status_code == me(hub, second).status_code == 200


def test_an_upgrade_sent_with_an_unusable_credential_still_works(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    response = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": setup_token},
        headers={"Authorization": "API-Key something"},
    )

    assert response.status_code == 200
    assert me(hub, response.json()["plain"]).status_code == 200


def test_the_owner_mints_a_one_time_setup_token_for_their_project(hub):
    alice = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()
    path = f"{COMPETITION}/projects/{alice['project']['userId']}/alpha"

    minted = owner_setup_token(hub, alice["plain"], path)
    setup_token = minted.json()["plain"]
    second_machine = upgrade(hub, setup_token)
    again = upgrade(hub, setup_token)

    assert minted.status_code == 200
    valid_for = datetime.fromisoformat(minted.json()["validUntil"]) - datetime.now(
        timezone.utc
    ).replace(tzinfo=None)
    assert timedelta(minutes=2) < valid_for <= timedelta(minutes=3)
    assert minted.json()["project"] == alice["project"]
    assert second_machine.json()["project"] == alice["project"]
    assert me(hub, second_machine.json()["plain"]).json()["login"] == "alice"
    assert me(hub, alice["plain"]).status_code == 200
    assert again.status_code == 401


def test_a_setup_token_is_minted_only_for_the_callers_own_project(hub):
    alice = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()["plain"]
    bob = upgrade(hub, hub.mint_token(COMPETITION, "bob", "beta")).json()
    upgrade(hub, hub.mint_token(COMPETITION, "alice", "second"))

    foreign = owner_setup_token(
        hub, alice, f"{COMPETITION}/projects/{bob['project']['userId']}/beta"
    )
    sibling = owner_setup_token(hub, alice, f"{COMPETITION}/projects/@me/second")
    anonymous = requests.post(
        f"{hub.url}/v3/competitions/{COMPETITION}/projects/@me/alpha/setup-tokens"
    )

    assert (foreign.status_code, foreign.json()["code"]) == (403, "ACCESS_DENIED")
    assert (sibling.status_code, sibling.json()["code"]) == (403, "ACCESS_DENIED")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHORIZED")
    assert "plain" not in foreign.json() and "plain" not in sibling.json()
