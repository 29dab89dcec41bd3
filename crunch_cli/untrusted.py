"""Check names that come from a hub before they touch a disk.

A data file, a submission file or a quickstarter is named by the hub, and a hostile or
broken hub can name it `../../.bashrc`, `/etc/x`, `a\\0b`, a name that reads backwards, or
one longer than the file system allows. Each name is checked on its own (`relative_name`)
and then against the folder it lands in, symlinks resolved (`target_inside`), before any
byte is written: a bad name is one `UntrustedInputError`, and nothing of the batch is
written.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from crunch_cli.errors import UntrustedInputError
from crunch_cli.terminal import shown

# File systems cap a name at 255 bytes; a path this long is no one's honest file.
MAX_PART_BYTES = 255
MAX_PATH_CHARACTERS = 1024
# Control characters (NUL included), the bidirectional controls that make a name read
# differently from what it is, and backslashes, which are separators on Windows.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\\\\]")
_DRIVE = re.compile(r"^[A-Za-z]:")

HINT = "nothing was written; tell the competition organizer, the hub sent it"


def relative_name(name: object, *, what: str) -> PurePosixPath:
    """`name` as a safe relative path, or an error naming what is wrong with it."""
    if not isinstance(name, str) or not name:
        raise UntrustedInputError(f"the hub sent an empty or missing {what} name", hint=HINT)
    problem = _problem(name)
    if problem is not None:
        raise UntrustedInputError(
            f"the hub sent an unsafe {what} name {_quoted(name)}: {problem}", hint=HINT
        )
    return PurePosixPath(name)


def target_inside(root: Path, name: PurePosixPath, *, what: str) -> Path:
    """Where `name` lands under `root`, refusing any folder on the way that is a symlink
    out of `root` and a final entry that is a symlink at all (writing would follow it).
    """
    real_root = root.resolve()
    target = root.joinpath(*name.parts)
    parent = target.parent.resolve()
    if parent != real_root and real_root not in parent.parents:
        raise UntrustedInputError(
            f"the {what} {_quoted(str(name))} would land outside {root} (through a symlink)",
            hint="remove the symlink from the workspace, or run the command in another folder",
        )
    if target.is_symlink():
        raise UntrustedInputError(
            f"the {what} {_quoted(str(name))} is a symlink in the workspace; it is not replaced",
            hint="remove the symlink, then run the command again",
        )
    return target


def _problem(name: str) -> str | None:
    if len(name) > MAX_PATH_CHARACTERS:
        return f"longer than {MAX_PATH_CHARACTERS} characters"
    if _FORBIDDEN.search(name):
        return "control, bidirectional or backslash characters"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "it climbs out of its folder (`..`)"
    if any(part in ("", ".") for part in parts):
        return "an empty or `.` path segment"
    if any(len(part.encode()) > MAX_PART_BYTES for part in parts):
        return f"a segment longer than {MAX_PART_BYTES} bytes"
    return None


def _quoted(name: str) -> str:
    """Enough of the name to recognize it, safe to print."""
    text = repr(name if len(name) <= 80 else name[:77] + "...")
    return shown(text)
