"""crunch-cli 13.0.1's named hubs (`--environment`), and which hub a workspace talks to.

One rule for every command and the notebook API: what the workspace recorded at `crunch
setup`; in a workspace made by crunch-cli 13.0.1, which records no hub, what its `.env` says
(13.0.1 reads `CRUNCH_API_BASE_URL` or `CRUNCH_ENVIRONMENT` from it), else 13.0.1's default,
production.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crunch_cli.api import HubClient, ProjectClient
    from crunch_cli.workspace import Workspace

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
    """The hub `workspace` talks to when the user names none (see the module docstring)."""
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


def workspace_client(workspace: Workspace, base_url: str | None = None) -> HubClient:
    """A client for the workspace's hub (`base_url` when the user named one) and token."""
    from crunch_cli.api import HubClient

    return HubClient(base_url or workspace_hub(workspace), workspace.read_token())


def project_client(workspace: Workspace, base_url: str | None = None) -> ProjectClient:
    """`workspace_client`, bound to the workspace's project."""
    config = workspace.config
    return workspace_client(workspace, base_url).project(
        config.competition_name, config.user_id, config.project_name
    )


def competitions_source(named: str | None, base_url: str) -> str:
    """Where a competition's modules come from: the source the user named, else the hub."""
    from crunch_cli.modules.sources import default_source

    return named or default_source(base_url)
