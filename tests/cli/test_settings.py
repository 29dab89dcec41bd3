"""`environments.Settings`: the one rule for which hub, source, token and project a command
uses, checked on workspaces on disk (no hub is called)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crunch_cli.api import ProjectClient
from crunch_cli.environments import Settings
from crunch_cli.errors import NotInWorkspaceError, WorkspaceError
from crunch_cli.workspace import ProjectConfig, Workspace

RECORDED = "http://recorded.example:8000"


def make_workspace(root: Path, api_base_url: str | None = RECORDED) -> Workspace:
    workspace = Workspace(root)
    workspace.write_config(ProjectConfig("demo-timeseries", "alpha", 7, api_base_url))
    return workspace


def test_the_hub_the_user_names_wins_over_the_workspace(tmp_path: Path):
    workspace = make_workspace(tmp_path)

    assert Settings(api_base_url="http://named.example/").base_url(workspace) == (
        "http://named.example"
    )
    assert Settings(environment="staging").base_url(workspace) == "https://api.hub.crunchdao.io"
    assert Settings(environment="dev", api_base_url="http://named.example").base_url(workspace) == (
        "http://named.example"
    )


def test_without_a_named_hub_the_workspace_says_else_the_local_hub(tmp_path: Path):
    recorded = make_workspace(tmp_path / "ours")
    public = make_workspace(tmp_path / "public", api_base_url=None)
    staging = make_workspace(tmp_path / "staging", api_base_url=None)
    (staging.root / ".env").write_text("CRUNCH_ENVIRONMENT=test\n")

    assert Settings().base_url(recorded) == RECORDED
    assert Settings().base_url(public) == "https://api.hub.crunchdao.com"
    assert Settings().base_url(staging) == "https://api.hub.crunchdao.io"
    assert Settings().base_url() == "http://127.0.0.1:8000"


def test_the_competitions_source_defaults_to_the_workspace_hub(tmp_path: Path):
    workspace = make_workspace(tmp_path)

    assert Settings().workspace(workspace).competitions_source == (
        "cache+http://recorded.example:8000"
    )
    named = Settings(competitions_source="local:///modules").workspace(workspace)
    assert named.competitions_source == "local:///modules"


def test_the_workspace_client_is_bound_to_its_project_and_token(tmp_path: Path):
    workspace = make_workspace(tmp_path)
    workspace.write_token("project-token")

    client = Settings().workspace(workspace).client()

    assert isinstance(client, ProjectClient)
    assert (client.competition_name, client.user_id, client.project_name) == (
        "demo-timeseries",
        7,
        "alpha",
    )
    assert (client.base_url, client.hub.token) == (RECORDED, "project-token")
    assert "project-token" not in repr(client)


def test_a_missing_token_fails_only_the_calls_that_need_it(tmp_path: Path):
    settings = Settings().workspace(make_workspace(tmp_path))

    assert settings.public_client().hub.token is None
    with pytest.raises(WorkspaceError):
        settings.client()


def test_outside_a_workspace_the_commands_that_need_one_say_so(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert Settings().nearby_workspace() is None
    assert Settings(api_base_url="http://named.example").hub().base_url == "http://named.example"
    with pytest.raises(NotInWorkspaceError):
        Settings().workspace()
