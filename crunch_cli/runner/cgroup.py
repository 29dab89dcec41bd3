"""A pids cgroup per run, for the one case where `RLIMIT_NPROC` is not enforced.

The kernel never applies `RLIMIT_NPROC` to processes of the host's root user, and a sandbox
started by root runs as root outside its user namespace: a fork bomb would then exhaust the
machine's process ids and take the hub down with it. A cgroup's `pids.max` holds whoever
the processes belong to. Only root can usually make one, which is exactly when it is needed;
anyone else keeps the rlimit, which then works.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

_PREFIX = "crunch-run-"


class ProcessGroup:
    """A fresh cgroup with a process limit; `enter_command` puts a command inside it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> ProcessGroup | None:
        """None when this process cannot make a pids cgroup (not root, no controller)."""
        parent = _own_pids_cgroup()
        if parent is None:
            return None
        path = parent / f"{_PREFIX}{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
        except OSError:
            return None
        try:
            (path / "pids.max").write_text(f"{max_processes}\n")
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path)

    def enter_command(self) -> tuple[str, ...]:
        """A prefix that moves itself into the group, then runs the rest: everything the
        command starts is born inside, with no window before the limit applies."""
        procs = str(self.path / "cgroup.procs")
        return ("/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs)

    def count(self) -> int:
        try:
            return int((self.path / "pids.current").read_text())
        except (OSError, ValueError):
            return 0

    def remove(self) -> None:
        """Delete the group once its processes are gone (the kernel refuses it before)."""
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _own_pids_cgroup() -> Path | None:
    """The folder of this process's cgroup under the pids controller (v1 or v2)."""
    if os.geteuid() != 0:
        return None
    try:
        memberships = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for membership in memberships:
        _number, controllers, relative = membership.split(":", 2)
        version = "cgroup2" if controllers == "" else "cgroup"
        if version == "cgroup" and "pids" not in controllers.split(","):
            continue
        mount = _mount_point(mounts, version, "pids" if version == "cgroup" else None)
        if mount is None:
            continue
        folder = mount / relative.lstrip("/")
        if version == "cgroup2" and "pids" not in _read(folder / "cgroup.subtree_control"):
            continue
        return folder
    return None


def _mount_point(mountinfo: list[str], fstype: str, option: str | None) -> Path | None:
    for line in mountinfo:
        fields = line.split()
        separator = fields.index("-")
        if fields[separator + 1] != fstype:
            continue
        super_options = fields[separator + 3].split(",") if len(fields) > separator + 3 else []
        if option is None or option in super_options:
            return Path(fields[4])
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
