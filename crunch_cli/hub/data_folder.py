"""The files of a data folder for a competition that ships its own modules: every file in
it, of any type and at any depth, is released to competitors, except those under `hidden/`,
which only the hub's own runs and scoring see.

Each file is named by its path relative to the folder (relative to `hidden/` for hidden
ones, since runs lay them over the released files), with forward slashes. Those names end
up on competitors' disks, so they pass the checks every client applies to a name it is
sent (`crunch_cli.untrusted`), and links are refused: the release holds exactly the
folder's own files, never something a link reaches outside it.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from crunch_cli.errors import CrunchError, UntrustedInputError
from crunch_cli.untrusted import relative_name

HIDDEN_DIRECTORY = "hidden"


@dataclasses.dataclass(frozen=True)
class FolderFile:
    name: str
    source: Path
    hidden: bool


def collect(data_dir: Path) -> list[FolderFile]:
    """Every file of `data_dir`, sorted by name, hidden ones last; one `CrunchError` for the
    first link, special file or unusable name found.
    """
    if not data_dir.is_dir():
        raise CrunchError(f"{data_dir} is not a folder", hint="pass --data-dir the data folder")
    released = []
    hidden = []
    for path, parts in _walk(data_dir, ()):
        if len(parts) > 1 and parts[0] == HIDDEN_DIRECTORY:
            hidden.append(FolderFile(_name(path, parts[1:]), path, hidden=True))
        else:
            released.append(FolderFile(_name(path, parts), path, hidden=False))
    return sorted(released, key=_order) + sorted(hidden, key=_order)


def _order(file: FolderFile) -> str:
    return file.name


def _walk(folder: Path, parts: tuple[str, ...]) -> Iterator[tuple[Path, tuple[str, ...]]]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        raise CrunchError(
            f"cannot list {folder}: {error.strerror or error}", hint="check its permissions"
        ) from error
    for entry in entries:
        path = Path(entry.path)
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            raise CrunchError(
                f"{path} is a symlink",
                hint="replace it with a copy of what it points to: the release holds the "
                "folder's own files only; nothing was registered",
            )
        if stat.S_ISDIR(mode):
            yield from _walk(path, (*parts, entry.name))
        elif stat.S_ISREG(mode):
            yield path, (*parts, entry.name)
        else:
            raise CrunchError(
                f"{path} is not a regular file",
                hint="remove it from the data folder; nothing was registered",
            )


def _name(path: Path, parts: tuple[str, ...]) -> str:
    name = "/".join(parts)
    try:
        relative_name(name, what="data file")
    except UntrustedInputError as error:
        # Its message speaks to a competitor about a hub; the reason is what the organizer needs.
        reason = error.message.rpartition(": ")[2]
        raise CrunchError(
            f"{str(path)!r}: crunch clients refuse this file name ({reason})",
            hint="rename the file; nothing was registered",
        ) from None
    return name
