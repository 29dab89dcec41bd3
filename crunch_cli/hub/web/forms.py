"""Cross-site request forgery defence for the website's forms (every non-GET HTML route).

Two independent checks, so that either alone stops a forged POST from another site:

- the `Origin` header (or, when a browser leaves it out, the `Referer`) must be the hub's
  own origin: the one the request came in on, or that of `public_url`; a request with
  neither header is refused too, since every browser sends one of them with a form;
- a double-submit token: the page sets a random cookie (`HttpOnly`, `SameSite=Strict`)
  and puts its HMAC under the hub's secret in the form; the POST must carry both, and they
  must match. A site that manages to plant a cookie still cannot compute its HMAC.

The JSON API is not behind this: it authenticates with a token header that a browser
never adds on its own, and the command-line clients send no `Origin`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

COOKIE = "crunch_csrf"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COOKIE_MAX_AGE = 7 * 24 * 3600
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class FormRefused(Exception):
    """A form POST failed the origin or token check; `reason` is shown on the 403 page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def form_token(request: Request) -> tuple[str, str]:
    """(the token for this page's forms, the cookie it goes with): the browser's cookie
    when it has one, else a new one for `set_cookie`.
    """
    cookie = request.cookies.get(COOKIE, "")
    if not _COOKIE_VALUE.match(cookie):
        cookie = secrets.token_urlsafe(32)
    return _sign(_secret(request), cookie), cookie


def set_cookie(request: Request, response: Response, cookie: str) -> None:
    """Give (or renew) the browser's cookie, which only same-site requests carry back."""
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=COOKIE_MAX_AGE,
        path="/",
        secure=_is_https(request),
        httponly=True,
        samesite="strict",
    )


async def check_form(request: Request) -> None:
    """Router dependency: lets safe methods through, checks every other one."""
    if request.method in SAFE_METHODS:
        return
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        raise FormRefused("the browser did not say which page sent this form")
    if _origin(claimed) not in _own_origins(request):
        raise FormRefused("this form was sent from another site")
    given = (await request.form()).get(FIELD)
    cookie = request.cookies.get(COOKIE, "")
    expected = _sign(_secret(request), cookie)
    if not cookie or not isinstance(given, str) or not _equal(given, expected):
        raise FormRefused("this form has expired or its security token is missing")


def _equal(given: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str; bytes of any content compare in constant time.
    return hmac.compare_digest(given.encode(), expected.encode())


def _sign(secret: bytes, cookie: str) -> str:
    return hmac.new(secret, f"csrf\n{cookie}".encode(), hashlib.sha256).hexdigest()


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.store.secret
    return secret


def _own_origins(request: Request) -> set[tuple[str, str, int | None]]:
    origins = {_origin(str(request.base_url))}
    if public_url := request.app.state.store.settings.public_url:
        origins.add(_origin(public_url))
    return origins


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in; "null" matches none."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ("", "", None)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").rstrip("."), port or _DEFAULT_PORTS.get(scheme))


def _is_https(request: Request) -> bool:
    public_url = request.app.state.store.settings.public_url or ""
    return request.url.scheme == "https" or public_url.startswith("https://")
