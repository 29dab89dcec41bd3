"""Cutting the child off the network.

The strong way is a fresh network namespace (only a loopback that is down): nothing the
user's code does can reach a socket outside, not even through C extensions. Containers
and some kernels forbid unprivileged user namespaces, so the fallback is a guard patched
into `socket` in the child before the user's module is imported: it stops Python code
(requests, urllib, sockets) but not native code that opens sockets on its own.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
from typing import Any

NAMESPACE = "network namespace"
SOCKET_GUARD = "socket guard"
ALLOWED = "allowed"

_UNSHARE_ARGUMENTS = ("--user", "--net", "--map-root-user", "--")

BLOCKED_MESSAGE = "network access is disabled for this run (crunch test --no-network)"


@functools.cache
def namespace_prefix() -> tuple[str, ...] | None:
    """`unshare ...` to put before the child's command, if this machine allows it.

    Probed once per process by running a real command in a new namespace: the presence of
    the `unshare` binary says nothing about whether the kernel lets us use it.
    """
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    prefix = (unshare, *_UNSHARE_ARGUMENTS)
    try:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return prefix if probe.returncode == 0 else None


def choose(network: bool) -> tuple[str, tuple[str, ...]]:
    """The mechanism's name and the command prefix that applies it."""
    if network:
        return ALLOWED, ()
    prefix = namespace_prefix()
    if prefix is not None:
        return NAMESPACE, prefix
    return SOCKET_GUARD, ()


class NetworkBlockedError(PermissionError):
    """What user code sees when it tries to reach the network in a blocked run."""


def install_socket_guard() -> None:
    """Refuse every non-Unix socket connection and name lookup from Python code."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise NetworkBlockedError(BLOCKED_MESSAGE)

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            refuse()
        original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX:
            refuse()
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse
    socket.gethostbyname = refuse
    socket.gethostbyname_ex = refuse
