"""Global options, resolved once and handed to every command.

Which hub a command talks to, first match wins:

1. `--api-base-url` (or `CRUNCH_API_BASE_URL`);
2. `--environment` (or `CRUNCH_ENVIRONMENT`): crunch-cli 13.0.1's named hubs;
3. the hub the workspace recorded at `crunch setup`;
4. in a workspace made by crunch-cli 13.0.1, which records no hub: what its `.env` file says
   (13.0.1 reads the same variables from it), else 13.0.1's default, production;
5. the local hub (`crunch hub serve`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from crunch_cli.environments import ENVIRONMENTS, project_client, workspace_hub
from crunch_cli.errors import NotInWorkspaceError
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient


@dataclasses.dataclass
class State:
    debug: bool = False
    api_base_url: str | None = None
    web_base_url: str | None = None
    environment: str | None = None
    competitions_source: str | None = None
    hide_tips: bool = False

    def base_url(self, recorded: str | None = None) -> str:
        """What the user said (option, env var, environment), then `recorded`, then the
        local hub."""
        from crunch_cli.api.client import DEFAULT_API_BASE_URL

        return (self.explicit_base_url() or recorded or DEFAULT_API_BASE_URL).rstrip("/")

    def hub_url(self, workspace: Workspace) -> str:
        """The hub of this workspace: the user's choice, else `workspace_hub`'s rule."""
        return self.explicit_base_url() or workspace_hub(workspace)

    def nearby_base_url(self) -> str:
        """The hub for commands that also work outside a workspace (list, ping, whitelist)."""
        try:
            return self.hub_url(Workspace.find())
        except NotInWorkspaceError:
            return self.base_url()

    def web_url(self) -> str:
        """The hub's website: the option, else the environment's, else the API's own host
        (our hub serves both)."""
        if self.web_base_url:
            return self.web_base_url.rstrip("/")
        if self.environment and not self.api_base_url:
            return ENVIRONMENTS[self.environment][1]
        return self.nearby_base_url()

    def workspace_client(self) -> tuple[Workspace, ProjectClient]:
        """The workspace around the current folder and its project's client."""
        workspace = Workspace.find()
        return workspace, project_client(workspace, self.explicit_base_url())

    def explicit_base_url(self) -> str | None:
        """The hub the user named for this command (option, env var or environment)."""
        if self.api_base_url:
            return self.api_base_url
        if self.environment:
            return ENVIRONMENTS[self.environment][0]
        return None
