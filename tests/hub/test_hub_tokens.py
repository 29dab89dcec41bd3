"""Setup tokens become project tokens once, within their validity; project tokens open the
API and are never stored in plain text."""

from __future__ import annotations

import threading

import requests

COMPETITION = "demo-timeseries"


def upgrade(hub, token: str) -> requests.Response:
    return requests.post(f"{hub.url}/v2/project-tokens/upgrade", json={"cloneToken": token})


def test_upgrading_a_setup_token_gives_a_project_token_for_that_project(hub):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    response = upgrade(hub, setup_token)

    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "PERMANENT"
    assert body["validUntil"] is None
    assert len(body["plain"]) >= 32 and body["plain"] != setup_token
    assert body["project"]["name"] == "alpha"
    assert body["project"]["competitionId"] == 1
    me = requests.get(
        f"{hub.url}/v2/users/@me", headers={"Authorization": f"Project-Token {body['plain']}"}
    )
    assert me.json() == {"id": body["project"]["userId"], "login": "alice"}


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

    stored = b"".join(path.read_bytes() for path in hub.root.glob("hub.sqlite3*"))

    assert len(stored) > 0
    assert setup_token.encode() not in stored
    assert project_token.encode() not in stored


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


def test_a_project_token_opens_only_its_own_users_projects(hub):
    alice = upgrade(hub, hub.mint_token(COMPETITION, "alice", "alpha")).json()
    bob = upgrade(hub, hub.mint_token(COMPETITION, "bob", "beta")).json()
    headers = {"Authorization": f"Project-Token {alice['plain']}"}
    base = f"{hub.url}/v3/competitions/{COMPETITION}/projects"

    own = requests.get(f"{base}/@me/alpha", headers=headers)
    other = requests.get(f"{base}/{bob['project']['userId']}/beta", headers=headers)
    missing = requests.get(f"{base}/@me/nothing", headers=headers)

    assert own.json()["id"] == alice["project"]["id"]
    assert (other.status_code, other.json()["code"]) == (403, "ACCESS_DENIED")
    assert missing.status_code == 404
    assert missing.json()["code"] == "PROJECT_NOT_FOUND"
    assert missing.json()["competitionId"] == 1
