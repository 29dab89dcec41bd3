"""Which hub a command or the notebook API talks to, with which token, for which project, and
where a competition's modules come from: resolved here, and nowhere else.

Which hub, first match wins:

1. `--api-base-url` (or `CRUNCH_API_BASE_URL`);
2. `--environment` (or `CRUNCH_ENVIRONMENT`): crunch-cli 13.0.1's named hubs;
3. the hub the workspace recorded at `crunch setup`;
4. in a workspace made by crunch-cli 13.0.1, which records no hub: what its `.env` says
   (13.0.1 reads `CRUNCH_API_BASE_URL` or `CRUNCH_ENVIRONMENT` from it), else 13.0.1's
   default, production;
5. outside any workspace: the local hub (`crunch hub serve`).

A competition's modules come from `--competitions` (or `CRUNCH_COMPETITIONS_SOURCE`), else
from the workspace's hub. The token and the project are the workspace's own.

`Settings` holds what the user named for one command (the notebook API names nothing);
`Settings.workspace()` resolves it for one workspace into `WorkspaceSettings`, which yields
the project's client.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crunch_cli.api import HubClient, ProjectClient
    from crunch_cli.workspace import ProjectConfig, Workspace

PRODUCTION = "production"
STAGING = "staging"
DEVELOPMENT = "development"

# (API base URL, website base URL). `development` is a hub on this machine, which for us is
# `crunch hub serve` (it serves its website on the same port).
ENVIRONMENTS: dict[str, tuple[str, str]] = {
    PRODUCTION: ("https://api.hub.crunchdao.com", "https://hub.crunchdao.com"),
    STAGING: ("https://api.hub.crunchdao.io", "https://hub.crunchdao.io"),
    DEVELOPMENT: ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
}
ENVIRONMENT_ALIASES = {
    "prod": PRODUCTION,
    "test": STAGING,
    "dev": DEVELOPMENT,
    "local": DEVELOPMENT,
}


def environment_name(value: str) -> str:
    """A name or 13.0.1 alias of an environment, as its full name; ValueError if unknown."""
    name = ENVIRONMENT_ALIASES.get(value.lower(), value.lower())
    if name not in ENVIRONMENTS:
        raise ValueError(value)
    return name


def workspace_hub(workspace: Workspace) -> str:
    """The hub `workspace` talks to when the user names none (rules 3 and 4 above)."""
    recorded = workspace.config.api_base_url
    if recorded is None:
        settings = workspace.public_client_settings()
        recorded = settings.get("CRUNCH_API_BASE_URL")
        if recorded is None:
            try:
                named = environment_name(settings.get("CRUNCH_ENVIRONMENT", PRODUCTION))
            except ValueError:
                named = PRODUCTION  # 13.0.1 ignores an unknown name too
            recorded = ENVIRONMENTS[named][0]
    return recorded.rstrip("/")


def competitions_source(named: str | None, base_url: str) -> str:
    """Where a competition's modules come from: the source the user named, else the hub at
    `base_url`, which serves them in crunch-cli's cache layout."""
    from crunch_cli.modules.sources import default_source

    return named or default_source(base_url)


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the user named for one command: the global options, or their environment
    variables (None: not named). Every command resolves its hub and client through this."""

    api_base_url: str | None = None
    environment: str | None = None
    web_base_url: str | None = None
    competitions_source: str | None = None

    def named_base_url(self) -> str | None:
        """The hub the user named for this command (option, variable or environment)."""
        if self.api_base_url:
            return self.api_base_url.rstrip("/")
        if self.environment:
            return ENVIRONMENTS[environment_name(self.environment)][0]
        return None

    def base_url(self, workspace: Workspace | None = None) -> str:
        """The hub to talk to (see the module docstring), for `workspace` or for none."""
        from crunch_cli.api.client import DEFAULT_API_BASE_URL

        named = self.named_base_url()
        if named is not None:
            return named
        if workspace is not None:
            return workspace_hub(workspace)
        return DEFAULT_API_BASE_URL

    def nearby_workspace(self) -> Workspace | None:
        """The workspace around the current folder, if there is one."""
        from crunch_cli.errors import NotInWorkspaceError
        from crunch_cli.workspace import Workspace

        try:
            return Workspace.find()
        except NotInWorkspaceError:
            return None

    def nearby_base_url(self) -> str:
        """The hub for commands that also work outside a workspace (list, ping, whitelist):
        the current folder's workspace's, when there is one."""
        return self.base_url(self.nearby_workspace())

    def web_url(self) -> str:
        """The hub's website: the option, else the named environment's, else the API's own
        address (our hub serves both)."""
        if self.web_base_url:
            return self.web_base_url.rstrip("/")
        if self.environment and not self.api_base_url:
            return ENVIRONMENTS[environment_name(self.environment)][1]
        return self.nearby_base_url()

    def hub(self, *, timeout: float | None = None, retries: int | None = None) -> HubClient:
        """A client without a token for the nearby hub: calls about no project."""
        return _hub_client(self.nearby_base_url(), None, timeout=timeout, retries=retries)

    def workspace(self, workspace: Workspace | None = None) -> WorkspaceSettings:
        """These settings resolved for `workspace` (default: the one around the current
        folder; `NotInWorkspaceError` when there is none)."""
        from crunch_cli.workspace import Workspace

        found = workspace if workspace is not None else Workspace.find()
        base_url = self.base_url(found)
        return WorkspaceSettings(
            found, base_url, competitions_source(self.competitions_source, base_url)
        )


@dataclasses.dataclass(frozen=True)
class WorkspaceSettings:
    """One workspace's settings, resolved: its hub, the source of its competition's modules,
    and (read when a call needs them) its token and project."""

    workspace: Workspace
    base_url: str
    competitions_source: str

    @property
    def config(self) -> ProjectConfig:
        return self.workspace.config

    def token(self) -> str:
        """The project token; read only by calls that need it, so that a workspace whose
        token is missing can still run what is public (its tests, the library check)."""
        return self.workspace.read_token()

    def client(self) -> ProjectClient:
        """The project's client: the workspace's hub, token and project."""
        config = self.config
        return _hub_client(self.base_url, self.token()).project(
            config.competition_name, config.user_id, config.project_name
        )

    def public_client(
        self, *, timeout: float | None = None, retries: int | None = None
    ) -> ProjectClient:
        """The project's client without its token: for public calls made as advice before
        the real work, which must not need a token (`retries=0`: an unreachable hub answers
        at once)."""
        config = self.config
        return _hub_client(self.base_url, None, timeout=timeout, retries=retries).project(
            config.competition_name, config.user_id, config.project_name
        )


def _hub_client(
    base_url: str, token: str | None, *, timeout: float | None = None, retries: int | None = None
) -> HubClient:
    from crunch_cli.api import HubClient
    from crunch_cli.api.client import DEFAULT_TIMEOUT, RETRIES

    return HubClient(
        base_url,
        token,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        retries=RETRIES if retries is None else retries,
    )
