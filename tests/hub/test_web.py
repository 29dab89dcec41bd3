"""The hub's web pages, over plain HTTP: content, escaping, and a setup box that works."""

from __future__ import annotations

import re

import requests
from typer.testing import CliRunner

from crunch_cli.cli import app


def page(hub, path: str, **kwargs) -> requests.Response:
    return requests.get(hub.url + path, timeout=10, **kwargs)


def mint(hub, competition: str, user: str, project: str) -> requests.Response:
    return requests.post(
        f"{hub.url}/competitions/{competition}/setup-command",
        data={"user": user, "project": project},
        timeout=10,
    )


def test_home_page_lists_the_competitions(hub):
    response = page(hub, "/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in ("demo-timeseries", "demo-cross-sectional", "demo-stream"):
        assert f'href="/competitions/{name}"' in response.text


def test_competition_page_prefills_the_setup_box_from_the_url(hub):
    response = page(hub, "/competitions/demo-timeseries", params={"user": "alice"})

    assert response.status_code == 200
    assert 'name="user" value="alice"' in response.text
    assert "Leaderboard" in response.text
    assert 'id="setup-command"' not in response.text  # nothing is minted by a GET


def test_setup_box_mints_a_command_that_sets_up_a_workspace(hub, tmp_path, monkeypatch):
    response = mint(hub, "demo-timeseries", "alice", "alpha")
    command = re.search(r'<code id="setup-command">([^<]+)</code>', response.text).group(1)
    monkeypatch.chdir(tmp_path)

    arguments = command.split()[1:]
    result = CliRunner().invoke(app, [*arguments, "--no-data"])

    assert command.startswith(
        f"crunch --api-base-url {hub.url} setup demo-timeseries alpha --token "
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo-timeseries-alpha" / ".crunchdao" / "token").is_file()


def test_setup_box_refuses_a_bad_name_in_the_page(hub):
    response = mint(hub, "demo-timeseries", "<b>bob</b>", "alpha")

    assert response.status_code == 200
    assert 'role="alert"' in response.text
    assert "<b>bob</b>" not in response.text
    assert "&lt;b&gt;bob&lt;/b&gt;" in response.text


def test_unknown_pages_are_html_404s_while_the_api_keeps_json(hub):
    html = page(hub, "/competitions/nope")
    project = page(hub, "/competitions/demo-timeseries/projects/nobody/nothing")
    api = page(hub, "/v1/competitions/nope")

    assert html.status_code == project.status_code == api.status_code == 404
    assert "There is no competition &#39;nope&#39;" in html.text
    assert "There is no project nobody/nothing" in project.text
    assert api.json()["code"] == "COMPETITION_NAME_NOT_FOUND"
