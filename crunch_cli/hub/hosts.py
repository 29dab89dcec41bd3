"""The Host allow-list: the hub answers only to the names it is meant to be reached by.

Without it, a web page on any site could rebind its own domain name to 127.0.0.1 and drive
a local hub from the visitor's browser as if it were same-origin (DNS rebinding). Allowed:
the loopback names, the host of `public_url`, `allowed_hosts` ("*": any), and the machine's
own names for a hub bound to every interface: its hostname and the address the request
arrived on (a browser that typed an IP address is on the hub's own origin; a rebound
domain never has an IP address as its Host). The port never matters.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from crunch_cli.hub.errors import error_response
from crunch_cli.hub.settings import HubSettings

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
ANY_HOST = "*"


def host_name(value: str) -> str:
    """`Host` header → bare lower-case name: no port, no IPv6 brackets, no final dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def allowed_names(settings: HubSettings) -> frozenset[str] | None:
    """The names this hub answers to; None when any will do."""
    if ANY_HOST in settings.allowed_hosts:
        return None
    names = set(LOOPBACK_NAMES) | {host_name(item) for item in settings.allowed_hosts}
    if settings.public_url and (public := urlsplit(settings.public_url).hostname):
        names.add(host_name(public))
    names.add(host_name(socket.gethostname()))
    return frozenset(names)


def _same_address(name: str, local_address: str) -> bool:
    try:
        given = ipaddress.ip_address(name)
        local = ipaddress.ip_address(local_address)
    except ValueError:
        return False
    # A dual-stack socket sees an IPv4 client's connection on ::ffff:a.b.c.d.
    if isinstance(local, ipaddress.IPv6Address) and local.ipv4_mapped is not None:
        local = local.ipv4_mapped
    return given == local


class HostGuard:
    """Refuses a request whose Host is not allowed with the wire error INVALID_HOST (400)."""

    def __init__(self, app: ASGIApp, settings: HubSettings) -> None:
        self.app = app
        self.names = allowed_names(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.names is not None and scope["type"] == "http":
            header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            name = host_name(header)
            server = scope.get("server")
            local_address = server[0] if server else ""
            if name not in self.names and not _same_address(name, local_address):
                response = error_response(
                    400,
                    "INVALID_HOST",
                    f"this hub does not answer to the host name {name!r}; its organizer "
                    "allows more names with `crunch hub serve --allowed-host NAME`",
                    host=name,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
