"""Global options, resolved once and handed to every command (flag > env > workspace)."""

from __future__ import annotations

import dataclasses

from crunch_cli.errors import NotInWorkspaceError
from crunch_cli.workspace import Workspace

DEFAULT_API_BASE_URL = "http://127.0.0.1:8000"


@dataclasses.dataclass
class State:
    debug: bool = False
    api_base_url: str | None = None

    def base_url(self, recorded: str | None = None) -> str:
        """The flag or env var wins, then what the workspace recorded, then the local hub."""
        return (self.api_base_url or recorded or DEFAULT_API_BASE_URL).rstrip("/")

    def nearby_base_url(self) -> str:
        """`base_url` for commands that also work outside a workspace (list, ping, whitelist)."""
        try:
            recorded = Workspace.find().config.api_base_url
        except NotInWorkspaceError:
            recorded = None
        return self.base_url(recorded)
