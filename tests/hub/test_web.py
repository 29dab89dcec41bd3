"""The hub's web pages, over plain HTTP: content, escaping, and a setup box that works
for new projects and says where an existing project's token comes from."""

from __future__ import annotations

import html
import re

import requests
from typer.testing import CliRunner

from crunch_cli.cli import app


def page(hub, path: str, **kwargs) -> requests.Response:
    return requests.get(hub.url + path, timeout=10, **kwargs)


def mint(hub, competition: str, user: str, project: str) -> requests.Response:
    """Fill in the setup box as a browser does: open the page, post its form from it."""
    browser = requests.Session()
    form_page = browser.get(f"{hub.url}/competitions/{competition}", timeout=10)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
    return browser.post(
        f"{hub.url}/competitions/{competition}/setup-command",
        data={"user": user, "project": project, "csrf_token": csrf_token},
        headers={"Origin": hub.url},
        timeout=10,
    )


def test_home_page_lists_the_competitions(hub):
    response = page(hub, "/")
    stylesheet = page(hub, "/site.css")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in ("demo-timeseries", "demo-cross-sectional", "demo-stream"):
        assert f'href="/competitions/{name}"' in response.text
    assert "<td>cross-sectional</td>" in response.text and "DAG" not in response.text
    assert '<link rel="stylesheet" href="/site.css">' in response.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")


def test_competition_page_describes_the_data_and_the_limits(hub):
    hub.set_limits("demo-timeseries", run_time_limit_seconds=123)

    response = page(hub, "/competitions/demo-timeseries")

    assert response.status_code == 200
    assert "<dt>target</dt><dd><code>target</code></dd>" in response.text
    assert "<dt>moon</dt><dd><code>moon</code>" in response.text
    assert "<tr><th>run time</th><td>2 minutes and 3 seconds</td></tr>" in response.text
    assert "<tr><th>run memory</th><td>8 GiB</td></tr>" in response.text
    assert "higher is better" in response.text
    assert "No scored run yet." in response.text


def test_competition_page_prefills_the_setup_box_from_the_url(hub):
    response = page(hub, "/competitions/demo-timeseries", params={"user": "alice"})

    assert response.status_code == 200
    assert 'name="user" value="alice"' in response.text
    assert "Leaderboard" in response.text
    assert 'id="setup-command"' not in response.text  # nothing is minted by a GET


def test_setup_box_mints_a_command_that_sets_up_a_workspace(
    hub, tmp_path, monkeypatch, parse_setup_line
):
    response = mint(hub, "demo-timeseries", "alice", "alpha")
    command = re.search(r'<code id="setup-command">([^<]+)</code>', response.text).group(1)
    monkeypatch.chdir(tmp_path)

    token, arguments = parse_setup_line(html.unescape(command))
    result = CliRunner().invoke(app, [*arguments, "--no-data"], input=token)

    assert arguments[:5] == ["--api-base-url", hub.url, "setup", "demo-timeseries", "alpha"]
    assert "within 3 minutes; it works once" in response.text
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo-timeseries-alpha" / ".crunchdao" / "token").is_file()


def test_setup_box_gives_an_existing_project_no_token_and_says_who_does(hub, caller):
    response = mint(hub, "demo-timeseries", "alice", "alpha")

    assert response.status_code == 409
    assert 'id="setup-command"' not in response.text
    assert "--token" not in response.text
    assert "The project alice/alpha already exists" in response.text
    assert "<code>crunch setup-command</code>" in response.text
    assert "<code>crunch hub token demo-timeseries alice alpha</code>" in response.text


def test_setup_box_makes_a_new_project_for_a_user_who_has_others(hub, caller):
    response = mint(hub, "demo-timeseries", "alice", "second")

    assert response.status_code == 200
    assert "setup demo-timeseries second --token -" in response.text


def test_setup_box_refuses_a_bad_name_in_the_page(hub):
    response = mint(hub, "demo-timeseries", "<b>bob</b>", "alpha")

    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert "<b>bob</b>" not in response.text
    assert "&lt;b&gt;bob&lt;/b&gt;" in response.text


def test_unknown_pages_are_html_404s_while_the_api_keeps_json(hub, caller):
    html = page(hub, "/competitions/nope")
    project = page(hub, "/competitions/demo-timeseries/projects/nobody/nothing")
    run = page(hub, "/competitions/demo-timeseries/projects/alice/alpha/runs/99")
    api = page(hub, "/v1/competitions/nope")

    assert html.status_code == project.status_code == run.status_code == api.status_code == 404
    assert "There is no competition &#39;nope&#39;" in html.text
    assert "There is no project nobody/nothing" in project.text
    assert "There is no run 99" in run.text
    assert api.json()["code"] == "COMPETITION_NAME_NOT_FOUND"


CRASHING = b"""\
def train(X_train, y_train, model_directory_path):
    raise ValueError("<i>no</i> training today")


def infer(X_test, model_directory_path):
    return X_test
"""


def test_project_and_run_pages_show_what_was_pushed_and_run_escaped(hub, caller):
    pushed = caller.submit({"main.py": CRASHING}, message="<script>alert(1)</script>").json()
    run = caller.wait_for_run(caller.create_run(pushed["id"])["id"])
    project_path = "/competitions/demo-timeseries/projects/alice/alpha"

    project = page(hub, project_path)
    run_page = page(hub, f"{project_path}/runs/{run['id']}")

    assert project.status_code == run_page.status_code == 200
    assert "<script>alert(1)</script>" not in project.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in project.text
    assert "<code>main.py</code>" in project.text
    assert f'<a href="{project_path}/runs/{run["id"]}">{run["id"]}</a>' in project.text
    assert '<span class="error">error</span>' in project.text
    assert "<i>" not in run_page.text
    assert (
        '<span class="stderr">ValueError: &lt;i&gt;no&lt;/i&gt; training today</span>'
        in run_page.text
    )
    assert 'http-equiv="refresh"' not in run_page.text  # a finished run stays put


def test_a_queued_run_page_reloads_itself(hub_root, restartable_hub, new_caller):
    with restartable_hub(workers=0) as hub:
        caller = new_caller(hub)
        pushed = caller.submit({"main.py": CRASHING}).json()
        run = caller.create_run(pushed["id"])

        response = page(hub, f"/competitions/demo-timeseries/projects/alice/alpha/runs/{run['id']}")

    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in response.text
