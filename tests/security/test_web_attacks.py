"""What a hostile participant or a hostile web site tries against a hub, over real HTTP:
taking over a project through the website, forging the setup form from another site,
reaching the hub under a foreign host name, reusing replaced, expired or foreign tokens,
and flooding the setup box with new projects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import func, select, update

from crunch_cli.hub import HubSettings
from crunch_cli.hub.models import CloneToken, Project, ProjectToken, utcnow
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore

COMPETITION = "demo-timeseries"
OTHER_COMPETITION = "demo-stream"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A visitor's browser: keeps its cookies, opens the competition page, posts its form."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def open_form(self, competition: str = COMPETITION) -> str:
        """Open the competition page; the CSRF token its form carries."""
        response = self.session.get(f"{self.url}/competitions/{competition}", timeout=10)
        assert response.status_code == 200, response.text
        return TOKEN_FIELD.search(response.text).group(1)

    def post_form(
        self,
        user: str,
        project: str,
        *,
        csrf_token: str | None,
        headers: dict[str, str] | None = None,
        competition: str = COMPETITION,
    ) -> requests.Response:
        data = {"user": user, "project": project}
        if csrf_token is not None:
            data["csrf_token"] = csrf_token
        return self.session.post(
            f"{self.url}/competitions/{competition}/setup-command",
            data=data,
            headers={"Origin": self.url} if headers is None else headers,
            timeout=10,
        )

    def setup_box(self, user: str, project: str) -> requests.Response:
        """Fill in the setup box the way a visitor on the hub's own page does."""
        return self.post_form(user, project, csrf_token=self.open_form())


def count(hub_settings: HubSettings, model: type) -> int:
    with HubStore(hub_settings) as store, store.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def own_project(url: str, token: str, competition: str = COMPETITION) -> requests.Response:
    return requests.get(
        f"{url}/v3/competitions/{competition}/projects/@me/alpha",
        headers={"Authorization": f"Project-Token {token}"},
        timeout=10,
    )


def upgrade(url: str, setup_token: str, current: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Project-Token {current}"} if current else {}
    return requests.post(
        f"{url}/v2/project-tokens/upgrade",
        json={"cloneToken": setup_token},
        headers=headers,
        timeout=10,
    )


@contextmanager
def hub_with(root: Path, **settings) -> Iterator[str]:
    """A hub on `root` with these settings; its URL."""
    with serve_in_thread(HubSettings(root, **settings)) as server:
        yield server.url


# -- taking over a project through the website -------------------------------------------


def test_the_website_gives_no_token_for_an_existing_project_and_its_owner_keeps_working(
    hub, caller
):
    tokens_before = count(hub.settings, CloneToken)

    response = Browser(hub.url).setup_box("alice", "alpha")

    assert response.status_code == 409
    assert "--token" not in response.text
    assert count(hub.settings, CloneToken) == tokens_before
    assert own_project(hub.url, caller.token).status_code == 200


def test_the_website_gives_no_token_for_an_existing_project_under_another_spelling(hub, caller):
    response = Browser(hub.url).setup_box(" alice ", " alpha ")

    assert response.status_code == 409
    assert "--token" not in response.text


# -- forging the form from another site -----------------------------------------------------


def test_a_form_posted_from_another_site_is_refused_and_mints_nothing(hub):
    browser = Browser(hub.url)
    csrf_token = browser.open_form()
    projects_before = count(hub.settings, Project)

    response = browser.post_form(
        "mallory", "loot", csrf_token=csrf_token, headers={"Origin": "https://evil.example"}
    )

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "this form was sent from another site" in response.text
    assert "--token" not in response.text
    assert count(hub.settings, Project) == projects_before


def test_a_form_from_another_port_of_the_same_host_is_refused(hub):
    browser = Browser(hub.url)
    csrf_token = browser.open_form()
    host = hub.url.rsplit(":", 1)[0]

    response = browser.post_form(
        "mallory", "loot", csrf_token=csrf_token, headers={"Origin": f"{host}:1"}
    )

    assert response.status_code == 403


def test_a_form_from_an_opaque_origin_is_refused(hub):
    browser = Browser(hub.url)

    response = browser.post_form(
        "mallory", "loot", csrf_token=browser.open_form(), headers={"Origin": "null"}
    )

    assert response.status_code == 403


def test_a_form_with_a_foreign_referer_and_no_origin_is_refused(hub):
    browser = Browser(hub.url)

    response = browser.post_form(
        "mallory",
        "loot",
        csrf_token=browser.open_form(),
        headers={"Referer": "https://evil.example/competitions/demo-timeseries"},
    )

    assert response.status_code == 403


def test_a_form_with_neither_origin_nor_referer_is_refused(hub):
    browser = Browser(hub.url)

    response = browser.post_form("mallory", "loot", csrf_token=browser.open_form(), headers={})

    assert response.status_code == 403
    assert "did not say which page sent this form" in response.text


def test_a_form_from_the_hubs_own_page_by_referer_is_accepted(hub):
    browser = Browser(hub.url)

    response = browser.post_form(
        "carol",
        "gamma",
        csrf_token=browser.open_form(),
        headers={"Referer": f"{hub.url}/competitions/{COMPETITION}"},
    )

    assert response.status_code == 200
    assert "setup demo-timeseries gamma --token " in response.text


def test_a_form_without_its_csrf_token_is_refused_and_mints_nothing(hub):
    browser = Browser(hub.url)
    browser.open_form()
    projects_before = count(hub.settings, Project)

    response = browser.post_form("mallory", "loot", csrf_token=None)

    assert response.status_code == 403
    assert "security token is missing" in response.text
    assert count(hub.settings, Project) == projects_before


def test_a_form_with_a_wrong_csrf_token_is_refused(hub):
    browser = Browser(hub.url)
    real = browser.open_form()

    response = browser.post_form("mallory", "loot", csrf_token=real[:-4] + "0000")
    not_ascii = browser.post_form("mallory", "loot", csrf_token="é" * len(real))

    assert response.status_code == not_ascii.status_code == 403


def test_a_csrf_token_of_another_browser_is_refused(hub):
    attacker, victim = Browser(hub.url), Browser(hub.url)
    attackers_token = attacker.open_form()
    victim.open_form()

    response = victim.post_form("mallory", "loot", csrf_token=attackers_token)

    assert response.status_code == 403


def test_a_form_without_the_cookie_is_refused(hub):
    csrf_token = Browser(hub.url).open_form()

    response = Browser(hub.url).post_form("mallory", "loot", csrf_token=csrf_token)

    assert response.status_code == 403


def test_the_csrf_cookie_is_strict_same_site_and_hidden_from_scripts(hub):
    response = requests.get(f"{hub.url}/competitions/{COMPETITION}", timeout=10)

    cookie = response.headers["set-cookie"]
    assert cookie.startswith("crunch_csrf=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert TOKEN_FIELD.search(response.text).group(1) not in cookie


def test_the_api_keeps_working_for_clients_that_send_no_origin(hub, caller):
    response = requests.post(
        f"{hub.url}/v1/uploads",
        json={"name": "main.py", "size": 3, "encrypted": False},
        headers=caller.headers,
        timeout=10,
    )

    assert response.status_code == 200


# -- reaching the hub under another host name (DNS rebinding) ---------------------------------


def test_a_request_under_a_foreign_host_name_is_refused(hub, caller):
    api = requests.get(
        f"{hub.url}/v2/users/@me",
        headers={**caller.headers, "Host": "evil.example"},
        timeout=10,
    )
    website = requests.get(f"{hub.url}/", headers={"Host": "evil.example:80"}, timeout=10)

    assert (api.status_code, api.json()["code"]) == (400, "INVALID_HOST")
    assert "evil.example" in api.json()["message"]
    assert (website.status_code, website.json()["code"]) == (400, "INVALID_HOST")


def test_loopback_names_are_answered_on_any_port(hub):
    for host in ("localhost", "localhost:1234", "127.0.0.1:9", "[::1]:8000", "LOCALHOST."):
        response = requests.get(f"{hub.url}/v2/competitions", headers={"Host": host}, timeout=10)
        assert response.status_code == 200, host


def test_the_public_url_and_the_allowed_hosts_are_answered(hub_root):
    settings = {"public_url": "https://hub.example.org/", "allowed_hosts": ("lab.internal",)}
    with hub_with(hub_root, **settings) as url:
        public = requests.get(f"{url}/", headers={"Host": "hub.example.org"}, timeout=10)
        allowed = requests.get(f"{url}/", headers={"Host": "lab.internal:8000"}, timeout=10)
        other = requests.get(f"{url}/", headers={"Host": "evil.example"}, timeout=10)

    assert public.status_code == allowed.status_code == 200
    assert other.status_code == 400


def test_a_hub_that_allows_any_host_answers_any(hub_root):
    with hub_with(hub_root, allowed_hosts=("*",)) as url:
        response = requests.get(f"{url}/", headers={"Host": "evil.example"}, timeout=10)

    assert response.status_code == 200


# -- reusing tokens ----------------------------------------------------------------------------


def test_a_token_replaced_by_update_token_is_refused_while_the_new_one_works(hub, caller):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    new = upgrade(hub.url, setup_token, current=caller.token).json()["plain"]

    old = own_project(hub.url, caller.token)
    assert (old.status_code, old.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")
    assert own_project(hub.url, new).status_code == 200


def test_a_token_of_one_competition_does_not_open_the_same_project_in_another(
    hub, caller, caller_for
):
    other = caller_for("alice", "alpha", OTHER_COMPETITION)
    assert other.user_id == caller.user_id

    read = own_project(hub.url, caller.token, OTHER_COMPETITION)
    push = requests.post(
        f"{hub.url}{other.project_path(4)}/submissions",
        json={"message": "x", "mainFilePath": "main.py", "codeFiles": {}, "modelFiles": {}},
        headers=caller.headers,
        timeout=10,
    )

    assert (read.status_code, read.json()["code"]) == (403, "ACCESS_DENIED")
    assert (push.status_code, push.json()["code"]) == (403, "ACCESS_DENIED")
    assert own_project(hub.url, other.token, OTHER_COMPETITION).status_code == 200


def test_an_expired_project_token_is_refused(hub, caller):
    with HubStore(hub.settings) as store, store.session() as session:
        session.execute(update(ProjectToken).values(valid_until=utcnow() - timedelta(seconds=1)))

    response = own_project(hub.url, caller.token)
    minting = requests.post(
        f"{hub.url}{caller.project_path(3)}/setup-tokens", headers=caller.headers, timeout=10
    )

    assert (response.status_code, response.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")
    assert (minting.status_code, minting.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")


def test_an_expired_token_can_still_be_replaced_and_is_revoked(hub, caller):
    with HubStore(hub.settings) as store, store.session() as session:
        session.execute(update(ProjectToken).values(valid_until=utcnow() - timedelta(seconds=1)))

    new = upgrade(hub.url, hub.mint_token(COMPETITION, "alice", "alpha"), current=caller.token)

    assert new.status_code == 200
    assert own_project(hub.url, new.json()["plain"]).status_code == 200
    with HubStore(hub.settings) as store, store.session(write=False) as session:
        revoked = session.scalars(select(ProjectToken.revoked_at).order_by(ProjectToken.id)).all()
    assert revoked[0] is not None and revoked[-1] is None


# -- flooding the setup box ----------------------------------------------------------------------


def test_the_setup_box_creates_a_few_projects_per_address_and_hour(hub_root):
    with hub_with(hub_root, web_projects_per_hour=2) as url:
        browser = Browser(url)
        first = browser.setup_box("mallory", "one")
        second = browser.setup_box("mallory", "two")
        third = browser.setup_box("mallory", "three")
        existing = browser.setup_box("mallory", "one")

    assert first.status_code == second.status_code == 200
    assert third.status_code == 429
    assert 0 < int(third.headers["Retry-After"]) <= 3600
    assert "as many as this hub allows: try again in 60 minutes" in third.text
    assert "--token" not in third.text
    assert existing.status_code == 409  # an existing project is not a new creation
    with HubStore(HubSettings(hub_root)) as store, store.session(write=False) as session:
        names = session.scalars(
            select(Project.name).where(Project.name.in_(["one", "two", "three"]))
        )
        assert sorted(names) == ["one", "two"]


def test_refused_names_do_not_use_up_the_allowance(hub_root):
    with hub_with(hub_root, web_projects_per_hour=1) as url:
        browser = Browser(url)
        bad = browser.setup_box("mallory", "no/slash")
        good = browser.setup_box("mallory", "one")

    assert bad.status_code == 400
    assert good.status_code == 200


def test_a_token_of_one_competition_cannot_download_anothers_data(hub, caller):
    path = "/v2/competitions/demo-stream/rounds/@current/phases/submission/data-release"

    response = caller.call("GET", path)

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    assert caller.call("GET", path.replace("demo-stream", caller.competition)).status_code == 200
