"""HTTP client of the hub API: the only package that talks HTTP."""

from crunch_cli.api.client import HubClient, ProjectClient, make_session

__all__ = ["HubClient", "ProjectClient", "make_session"]
