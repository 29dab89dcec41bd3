"""Cutting the child off the network.

The strong way is a fresh network namespace (only a loopback that is down): nothing the
user's code does can reach a socket outside, not even through C extensions. bubblewrap makes
one for every sandboxed run (crunch_cli.runner.sandbox); without it, `unshare` may still.
Containers and some kernels forbid unprivileged user namespaces, so the last fallback is an
audit hook in the child, added before the user's module is imported: it stops Python code
(requests, urllib, sockets, `_socket`) but not native code or other programs.
"""

from __future__ import annotations

import functools
import shutil
import socket
import subprocess
from typing import Any

_UNSHARE_ARGUMENTS = ("--user", "--net", "--map-root-user", "--")

BLOCKED_MESSAGE = "network access is disabled for this run"


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


class NetworkBlockedError(PermissionError):
    """What user code sees when it tries to reach the network in a blocked run."""


def install_socket_guard() -> None:
    """Refuse every non-Unix socket connection, bind, send and name lookup from Python code.

    An audit hook, not a patch of the `socket` module: the checks run inside `_socket`
    itself (PEP 578), so code that imports `_socket`, reloads `socket` or keeps a reference
    to an original method meets them too, and a hook cannot be removed once added.
    """
    import sys

    def guard(event: str, arguments: tuple[Any, ...]) -> None:
        if event in _LOOKUPS:
            raise NetworkBlockedError(BLOCKED_MESSAGE)
        if event in _SOCKET_CALLS and getattr(arguments[0], "family", None) != socket.AF_UNIX:
            raise NetworkBlockedError(BLOCKED_MESSAGE)

    sys.addaudithook(guard)


_LOOKUPS = frozenset(
    {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}
)
_SOCKET_CALLS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})
