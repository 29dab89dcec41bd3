"""Fixtures for `crunch test`: real workspaces made by `crunch setup` against a real hub.

One workspace per demo format is set up once per session (hub, token, download, all
real); each test gets a copy of it with its own main.py, and runs `crunch test` in it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crunch_cli.hub import HubSettings
from crunch_cli.hub.demo import NAMES
from crunch_cli.hub.server import serve_in_thread

FORMATS = ("timeseries", "cross-sectional", "stream")


@pytest.fixture(scope="session")
def workspace_templates(
    tmp_path_factory: pytest.TempPathFactory, _template_hub_root: Path
) -> dict[str, Path]:
    """format → a pristine workspace holding the demo data and metadata, never run in.

    Made as `crunch setup` makes one (token upgrade, then a verified download from a
    running hub), so `crunch test` reads exactly what a competitor's workspace holds.
    """
    from crunch_cli.api.client import HubClient
    from crunch_cli.download import download_data
    from crunch_cli.environments import Settings
    from crunch_cli.hub import organizer
    from crunch_cli.workspace import ProjectConfig
    from crunch_cli.workspace import Workspace as RealWorkspace

    root = tmp_path_factory.mktemp("hub-for-runner") / "root"
    shutil.copytree(_template_hub_root, root)
    settings = HubSettings(root)
    folder = tmp_path_factory.mktemp("workspaces")
    templates = {}
    with serve_in_thread(settings) as server:
        for format_name in FORMATS:
            competition = NAMES[format_name]
            token = organizer.mint_setup_token(settings, competition, "runner", "tester")
            upgraded = HubClient(server.url).upgrade_token(token)
            workspace = RealWorkspace(folder / format_name)
            workspace.write_config(
                ProjectConfig(competition, "tester", upgraded["project"]["userId"], server.url)
            )
            workspace.write_token(upgraded["plain"])
            workspace.model_dir.mkdir()
            download_data(Settings().workspace(workspace).client(), workspace)
            templates[format_name] = workspace.root
    return templates


class Workspace:
    """A copy of a set-up workspace, with helpers to change what `crunch test` sees."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    @property
    def cache_path(self) -> Path:
        return self.root / ".crunchdao" / "competition.json"

    def cache(self) -> dict[str, Any]:
        return json.loads(self.cache_path.read_text())

    def set_checks(self, checks: list[dict[str, Any]]) -> None:
        cache = self.cache()
        cache["checks"] = checks
        self.cache_path.write_text(json.dumps(cache))

    def read_json(self, relative: str) -> Any:
        return json.loads((self.root / relative).read_text())


@pytest.fixture
def make_workspace(
    workspace_templates: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Workspace]:
    """Copy the `format` workspace into tmp_path, write `main.py`, and cd into it."""
    monkeypatch.delenv("CRUNCH_API_BASE_URL", raising=False)

    def make(format_name: str, main: str | None = None) -> Workspace:
        root = tmp_path / format_name
        shutil.copytree(workspace_templates[format_name], root)
        monkeypatch.chdir(root)
        workspace = Workspace(root)
        if main is not None:
            workspace.write("main.py", main)
        return workspace

    return make


@pytest.fixture
def crunch(run_crunch):
    """`crunch ...` in the current folder: the workspace fixtures chdir into their workspace."""
    return run_crunch
