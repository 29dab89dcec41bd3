"""A competition's quickstarters (starter code), and applying one to a workspace.

A quickstarter's files are named and served by the hub, and a hostile hub can name one
`../../.bashrc` or `.git/hooks/pre-commit`: every name is checked before anything is fetched
(`crunch_cli.untrusted`, and never a place where a file could run code or the workspace's
own folders, as for a submission checkout), then each file is fetched into a scratch folder
beside its target and checked against the size and sha256 the hub lists. Only when every
file arrived intact are they renamed into place, so a failure writes nothing, and a file
already there is replaced only with `overwrite`.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from crunch_cli.download import RemoteFile, fetch_files
from crunch_cli.errors import (
    DownloadError,
    NotFoundError,
    UntrustedInputError,
    WorkspaceExistsError,
)
from crunch_cli.submissions import NEVER_RESTORED, PROTECTED
from crunch_cli.untrusted import HINT, target_inside

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient
    from crunch_cli.download import Progress

WHAT = "quickstarter file"


@dataclasses.dataclass(frozen=True)
class Applied:
    """What `apply` wrote: file names relative to `directory`."""

    name: str
    directory: Path
    written: tuple[str, ...]
    notebook: bool


def get(client: ProjectClient, name: str) -> dict[str, Any]:
    """One quickstarter of the project's competition with its files; an unknown name says
    how to see the others."""
    try:
        return client.quickstarter(name)
    except NotFoundError as error:
        if error.code == "QUICKSTARTER_NOT_FOUND":
            error.hint = "run `crunch quickstarter list` to see the competition's quickstarters"
        raise


def apply(
    client: ProjectClient,
    name: str,
    directory: Path,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> Applied:
    """Write the quickstarter's files into `directory` (all of them, or none)."""
    quickstarter = get(client, name)
    remote = _remote_files(quickstarter.get("files"))
    directory.mkdir(parents=True, exist_ok=True)
    targets = {
        file.name: target_inside(directory, PurePosixPath(file.name), what=WHAT) for file in remote
    }
    existing = sorted(path for path, target in targets.items() if target.exists())
    if existing and not overwrite:
        raise WorkspaceExistsError(
            "already there: " + ", ".join(existing),
            hint="pass --overwrite to replace them, or apply it in another folder",
        )
    blocked = sorted(
        path
        for path, target in targets.items()
        if target.is_dir() or (target.parent.exists() and not target.parent.is_dir())
    )
    if blocked:
        raise WorkspaceExistsError(
            "a folder stands where a file goes, or a file where a folder goes: "
            + ", ".join(blocked),
            hint="move them away, or apply it in another folder",
        )
    scratch = Path(tempfile.mkdtemp(prefix=".quickstarter-", dir=directory))
    try:
        try:
            fetch_files(remote, scratch, force=True, progress=progress, what=WHAT)
        except DownloadError as error:
            error.message = f"quickstarter {name}: {error.message}; nothing was written"
            error.hint = (
                "run the command again; if it fails the same way, tell the competition organizer"
            )
            raise
        for file in remote:
            target = targets[file.name]
            target.parent.mkdir(parents=True, exist_ok=True)
            (scratch / file.name).replace(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Applied(
        name,
        directory,
        tuple(file.name for file in remote),
        bool(quickstarter.get("notebook")),
    )


def _remote_files(files: object) -> list[RemoteFile]:
    """The hub's file list, every entry checked: a bad one refuses the whole quickstarter."""
    if not isinstance(files, list) or not all(isinstance(item, dict) for item in files):
        raise UntrustedInputError("the hub sent no list of the quickstarter's files", hint=HINT)
    remote = []
    for item in files:
        size = item.get("size")
        remote.append(
            RemoteFile.checked(
                str(item.get("name")),
                item.get("name"),
                item.get("url"),
                -1 if size is None else size,
                item.get("sha256"),
                what=WHAT,
            )
        )
    names = [file.name for file in remote]
    folders = {str(parent) for name in names for parent in PurePosixPath(name).parents}
    if clashes := sorted({name for name in names if names.count(name) > 1 or name in folders}):
        raise UntrustedInputError(
            f"the hub named two quickstarter files, or a file and a folder, {', '.join(clashes)}",
            hint=HINT,
        )
    import pathspec

    refused = pathspec.GitIgnoreSpec.from_lines(NEVER_RESTORED)
    for name in names:
        if PurePosixPath(name).parts[0] in PROTECTED or refused.match_file(name):
            raise UntrustedInputError(
                f"the hub sent a quickstarter file {name!r}, where a file could run code or "
                "belongs to the workspace itself; nothing was written",
                hint=HINT,
            )
    return remote
