"""Fetching a competition module's source from a URL (a hub, a cache, GitHub)."""

from __future__ import annotations

from crunch_cli.api.client import make_session
from crunch_cli.errors import HubError, HubUnreachableError

TIMEOUT = (10, 30)


def fetch_module(url: str, limit: int) -> bytes | None:
    """The body at `url`, at most `limit` + 1 bytes of it; None for a 404 (crunch-cli's
    "this competition has no such module"). Other failures raise a `HubError`."""
    import requests
    import urllib3

    try:
        with (
            make_session() as session,
            session.get(url, stream=True, timeout=TIMEOUT) as response,
        ):
            if response.status_code == 404:
                return None
            if response.status_code >= 400:
                raise HubError(f"answered {response.status_code}")
            content = response.raw.read(limit + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
        raise HubUnreachableError(url, type(error).__name__) from error
    return bytes(content)
