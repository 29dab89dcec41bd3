"""Global options, resolved once and handed to every command (flag > env > workspace)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from crunch_cli.errors import NotInWorkspaceError
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.api import HubClient


@dataclasses.dataclass
class State:
    debug: bool = False
    api_base_url: str | None = None
    competitions_source: str | None = None

    def base_url(self, recorded: str | None = None) -> str:
        """The flag or env var wins, then what the workspace recorded, then the local hub."""
        from crunch_cli.api.client import DEFAULT_API_BASE_URL

        return (self.api_base_url or recorded or DEFAULT_API_BASE_URL).rstrip("/")

    def nearby_base_url(self) -> str:
        """`base_url` for commands that also work outside a workspace (list, ping, whitelist)."""
        try:
            recorded = Workspace.find().config.api_base_url
        except NotInWorkspaceError:
            recorded = None
        return self.base_url(recorded)

    def workspace_client(self) -> tuple[Workspace, HubClient]:
        """The workspace around the current folder and a client for its hub and token."""
        from crunch_cli.api import HubClient

        workspace = Workspace.find()
        return workspace, HubClient.for_workspace(workspace, self.api_base_url)
