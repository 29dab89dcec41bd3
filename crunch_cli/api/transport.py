"""What sits under every session `make_session` makes: which failures are tried again, and
the `--debug` log of each request.

A refused connection is not tried again: nothing listens at that address, so the hub is
down or the address is wrong, and waiting a few seconds changes neither; the user hears it
at once. A connection or read that times out, and a 502/503/504, are tried again: those
pass.

Each request is logged on the `crunch_cli.http` logger (at DEBUG: `crunch --debug` shows
it) with its method, its URL with tokens and signatures masked, and the answer's status.
This module imports requests and urllib3: only `make_session` imports it, when a session
is made.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from requests.adapters import HTTPAdapter  # noqa: TID253  # this module loads with a session
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from crunch_cli.redact import MASK

if TYPE_CHECKING:
    import requests
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

LOG = logging.getLogger("crunch_cli.http")

# Query parameters that open something by themselves: our hub's `signature`, an object
# store's `X-Amz-Signature`, `X-Amz-Credential` and `X-Amz-Security-Token`, any `token`.
_SECRET_PARAMETER = re.compile(r"sig|token|key|secret|password|credential|auth", re.IGNORECASE)


def redacted_url(url: str) -> str:
    """`url` as the debug log shows it: the values of secret-looking query parameters and
    any password in it masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", f":{MASK}@", 1)
    query = urlencode(
        [
            (name, MASK if _SECRET_PARAMETER.search(name) else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="<>",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def refused(error: Exception | None) -> bool:
    """Whether `error` is a connection the other side refused (nothing listens there)."""
    if not isinstance(error, NewConnectionError):
        return False
    cause = error.__cause__
    return isinstance(cause, ConnectionRefusedError) or (
        isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED
    )


class HubRetry(Retry):
    """urllib3's `Retry`, except that a refused connection ends the request at once."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> HubRetry:
        if refused(error):
            raise MaxRetryError(_pool, url or "", error) from error  # type: ignore[arg-type]  # urllib3 passes a pool whenever there is a connection
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        cause = f"{response.status}" if response is not None else type(error).__name__
        LOG.debug("%s %s: %s, trying again", method, redacted_url(url or ""), cause)
        return retry


class LoggingAdapter(HTTPAdapter):
    """requests' adapter, logging each request it sends and what came of it."""

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if not LOG.isEnabledFor(logging.DEBUG):
            return super().send(request, *args, **kwargs)
        shown = f"{request.method} {redacted_url(str(request.url))}"
        started = time.monotonic()
        try:
            response = super().send(request, *args, **kwargs)
        except Exception as error:
            LOG.debug("%s -> %s", shown, connection_reason(error))
            raise
        elapsed = (time.monotonic() - started) * 1000
        LOG.debug("%s -> %s %s (%.0f ms)", shown, response.status_code, response.reason, elapsed)
        return response


def connection_reason(error: Exception) -> str:
    """Why a request got no answer, in a few words (no URL: it may hold a signature)."""
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "getaddrinfo" in text:
        return "unknown host"
    if "timed out" in text:
        return "timed out"
    return "no answer"
