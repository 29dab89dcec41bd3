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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

NAMESPACE = "network namespace"
SOCKET_GUARD = "socket guard"
ALLOWED = "allowed"

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


# Runs inside the new namespaces before the child: empties each path given before `--`
# (a tmpfs over a folder, /dev/null over a file), then execs the rest of the arguments.
_HIDE_SCRIPT = """
while [ "$1" != "--" ]; do
  if [ -d "$1" ]; then
    mount -t tmpfs -o size=4k,mode=0 tmpfs "$1"
  else
    mount --bind /dev/null "$1"
  fi || { echo "cannot hide $1 from the submission" >&2; exit 97; }
  shift
done
shift
exec "$@"
"""


@functools.cache
def _can_hide() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    command = [unshare, "--user", "--net", "--mount", "--map-root-user", "--", "sh", "-c"]
    try:
        probe = subprocess.run(
            [*command, "mount -t tmpfs tmpfs /mnt || mount -t tmpfs tmpfs /tmp"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def hiding_prefix(paths: Sequence[Path]) -> tuple[str, ...] | None:
    """Like `namespace_prefix`, plus a mount namespace in which `paths` look empty.

    What the hub uses so that a submission cannot read the hub's own files (its database,
    the hidden targets among the blobs, other runs) even though it runs as the same user.
    None when the machine does not allow it.
    """
    unshare = shutil.which("unshare")
    if unshare is None or not _can_hide():
        return None
    existing = [str(path) for path in paths if path.exists()]
    return (
        unshare,
        "--user",
        "--net",
        "--mount",
        "--map-root-user",
        "--",
        "sh",
        "-c",
        _HIDE_SCRIPT,
        "hide",
        *existing,
        "--",
    )


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
