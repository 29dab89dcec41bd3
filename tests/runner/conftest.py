"""Fixtures for `crunch test`: real workspaces made by `crunch setup` against a real hub.

One workspace per demo format is set up once per session (hub, token, download, all
real); each test gets a copy of it with its own main.py, and runs `crunch test` in it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.hub import HubSettings
from crunch_cli.hub.demo import NAMES
from crunch_cli.hub.server import serve_in_thread

FORMATS = ("timeseries", "cross-sectional", "stream")


@dataclasses.dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def workspace_templates(
    tmp_path_factory: pytest.TempPathFactory, _template_hub_root: Path
) -> dict[str, Path]:
    """format → a pristine workspace set up from the demo hub, never run in."""
    root = tmp_path_factory.mktemp("hub-for-runner") / "root"
    shutil.copytree(_template_hub_root, root)
    settings = HubSettings(root)
    folder = tmp_path_factory.mktemp("workspaces")
    templates = {}
    with serve_in_thread(settings) as server:
        from crunch_cli.hub import organizer

        for format_name in FORMATS:
            competition = NAMES[format_name]
            token = organizer.mint_setup_token(settings, competition, "runner", "tester")
            target = folder / format_name
            result = invoke(
                "--api-base-url", server.url, "setup", competition, "tester", str(target),
                "--token", token,
            )  # fmt: skip
            assert result.exit_code == 0, result.output
            templates[format_name] = target
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
def crunch() -> Callable[..., Result]:
    """Run `crunch ...` in-process, in the current folder."""
    return invoke
