"""The local project folder made by `crunch setup`.

Layout (contract in DESIGN.md):

    .crunchdao/project.json      which competition/project, and which hub, this folder talks to
    .crunchdao/token             the project token, mode 0600
    .crunchdao/competition.json  the competition, its data release and checks, cached at
                                 download time so `crunch test` works offline
    data/  resources/  prediction/  main.py | main.ipynb  requirements.txt

Every write goes through `atomic_write_bytes`: a crash never leaves half a file behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from crunch_cli.errors import NotInWorkspaceError, WorkspaceError

METADATA_DIRECTORY = ".crunchdao"
PROJECT_FILE = "project.json"
TOKEN_FILE = "token"
COMPETITION_FILE = "competition.json"
DATA_DIRECTORY = "data"
PREDICTION_DIRECTORY = "prediction"
DEFAULT_MODEL_DIRECTORY = "resources"


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write through a temp file in the same folder, then rename over the target.

    The temp file gets `mode` before any byte is written, so a secret is never readable
    by others, not even for an instant.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """What `.crunchdao/project.json` records; camelCase on disk like the hub's JSON.

    `api_base_url` is None in a workspace made by the public crunch-cli, which does not
    record its hub: its `.env` file or its default then says where to go
    (`Workspace.public_client_settings`).
    """

    competition_name: str
    project_name: str
    user_id: int
    api_base_url: str | None
    size_variant: str = "default"
    model_directory: str = DEFAULT_MODEL_DIRECTORY

    def to_json(self) -> dict[str, Any]:
        return {
            "competitionName": self.competition_name,
            "projectName": self.project_name,
            "userId": self.user_id,
            "apiBaseUrl": self.api_base_url,
            "sizeVariant": self.size_variant,
            "modelDirectory": self.model_directory,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ProjectConfig:
        return cls(
            competition_name=value["competitionName"],
            project_name=value["projectName"],
            user_id=int(value["userId"]),
            api_base_url=value.get("apiBaseUrl"),
            size_variant=str(value.get("sizeVariant", "default")).lower(),
            model_directory=value.get("modelDirectory", DEFAULT_MODEL_DIRECTORY),
        )


@dataclasses.dataclass(frozen=True)
class Workspace:
    """A folder holding `.crunchdao/`; every path a command needs hangs off it."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> Workspace:
        """Walk up from `start` (default: the current folder) to the first `.crunchdao/`."""
        start = (start or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if (folder / METADATA_DIRECTORY / PROJECT_FILE).is_file():
                return cls(folder)
        raise NotInWorkspaceError(str(start))

    @property
    def metadata_dir(self) -> Path:
        return self.root / METADATA_DIRECTORY

    @property
    def data_dir(self) -> Path:
        return self.root / DATA_DIRECTORY

    @property
    def prediction_dir(self) -> Path:
        return self.root / PREDICTION_DIRECTORY

    @property
    def model_dir(self) -> Path:
        return self.root / self.config.model_directory

    @property
    def config(self) -> ProjectConfig:
        path = self.metadata_dir / PROJECT_FILE
        try:
            return ProjectConfig.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise WorkspaceError(
                f"{path} is unreadable ({error})",
                hint="run `crunch setup` again in a new folder, or restore the file",
            ) from error

    def public_client_settings(self) -> dict[str, str]:
        """The `CRUNCH_*` settings of the workspace's `.env` file.

        crunch-cli 13.0.1 records no hub in `project.json`; it reads `CRUNCH_API_BASE_URL` or
        `CRUNCH_ENVIRONMENT` from a `.env` file instead, so a workspace it made keeps
        talking to the same hub. Plain `KEY=VALUE` lines; no variable expansion.
        """
        try:
            lines = (self.root / ".env").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return {}
        settings: dict[str, str] = {}
        for line in lines:
            key, sep, value = line.strip().removeprefix("export ").partition("=")
            if sep and key.strip().startswith("CRUNCH_"):
                settings[key.strip()] = value.strip().strip("'\"")
        return settings

    def write_config(self, config: ProjectConfig) -> None:
        atomic_write_json(self.metadata_dir / PROJECT_FILE, config.to_json())

    def read_token(self) -> str:
        path = self.metadata_dir / TOKEN_FILE
        try:
            token = path.read_text().strip()
        except OSError:
            token = ""
        if not token:
            raise WorkspaceError(
                f"no project token in {path}",
                hint="run `crunch update-token` with a fresh setup token (from `crunch "
                "setup-command` in another workspace of this project, or from the organizer)",
            )
        return token

    def write_token(self, token: str) -> None:
        # No trailing newline: the public crunch-cli sends the file's bytes as a header value.
        atomic_write_text(self.metadata_dir / TOKEN_FILE, token.strip(), mode=0o600)

    @property
    def competition_cache_path(self) -> Path:
        return self.metadata_dir / COMPETITION_FILE

    def read_competition_cache(self) -> dict[str, Any]:
        """The competition, data release and checks saved by the last download."""
        try:
            cache: dict[str, Any] = json.loads(self.competition_cache_path.read_text())
            return cache
        except (OSError, ValueError) as error:
            raise WorkspaceError(
                "this workspace has no competition metadata yet",
                hint="run `crunch download` once while the hub is reachable",
            ) from error
