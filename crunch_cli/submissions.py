"""Bring a pushed submission's files back into a workspace (`setup`, `submission checkout`).

Files are fetched into a scratch folder first, each checked against the size and sha256
the hub lists for it, and compared with what is on disk; only then are they renamed into
place, so a file that arrives damaged writes nothing. A file the user changed is never
replaced without `--force`, and `data/` and `.crunchdao/` are never written, whatever the
hub sends.
"""

from __future__ import annotations

import dataclasses
import filecmp
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from crunch_cli.api import HubClient
from crunch_cli.download import Progress, RemoteFile, fetch_files
from crunch_cli.errors import DownloadError, PushError, WorkspaceExistsError
from crunch_cli.workspace import DATA_DIRECTORY, METADATA_DIRECTORY, Workspace

PROTECTED = (DATA_DIRECTORY, METADATA_DIRECTORY)


@dataclasses.dataclass
class CheckoutResult:
    written: list[str]
    unchanged: list[str]
    kept: list[str]  # differed locally and were left alone (keep_local)


def checkout(
    client: HubClient,
    workspace: Workspace,
    *,
    number: int | None = None,
    paths: list[str] | None = None,
    include_model: bool = False,
    force: bool = False,
    keep_local: bool = False,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Write submission `number` (default: the last) into the workspace.

    A local file that differs is an error listing every such file, unless `force` (replace)
    or `keep_local` (leave it; what setup does inside a folder the user already filled).
    """
    config = workspace.config
    project = (config.competition_name, config.user_id, config.project_name)
    if number is None:  # one number for both calls, even if a push lands in between
        number = int(client.submission(*project, "@last")["number"])
    links = client.clone(
        *project, submission_number=number, include_model=include_model or bool(paths)
    )
    listed = _listed_files(client.submission_files(*project, number))
    selected = _select(links, paths or [])
    scratch = Path(tempfile.mkdtemp(prefix=".checkout-", dir=workspace.metadata_dir))
    try:
        remote = [
            RemoteFile(path, path, url, *listed.get(path, (-1, None)))
            for path, url in selected.items()
        ]
        try:
            fetch_files(remote, scratch, progress=progress)
        except DownloadError as error:
            error.message = f"submission #{number}: {error.message}; nothing was written"
            error.hint = (
                "run the command again; if it fails the same way, the hub's copy is damaged: "
                "tell the competition organizer"
            )
            raise
        result = CheckoutResult([], [], [])
        changed = []
        for path in sorted(selected):
            local = workspace.root / path
            if not local.exists():
                changed.append(path)
            elif filecmp.cmp(scratch / path, local, shallow=False):
                result.unchanged.append(path)
            elif keep_local:
                result.kept.append(path)
            elif force:
                changed.append(path)
            else:
                result.kept.append(path)
        if result.kept and not keep_local:
            raise WorkspaceExistsError(
                "these files differ from the submission: " + ", ".join(result.kept),
                hint="pass --force to replace them, or name the files to check out",
            )
        for path in changed:
            target = workspace.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            (scratch / path).replace(target)
            result.written.append(path)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _listed_files(
    files: list[dict[str, Any]] | dict[str, Any],
) -> dict[str, tuple[int, str | None]]:
    """(size, sha256) of each file the hub lists; hubs that do not give a sha256 (the
    hosted one) still give the size, which is checked alone then.
    """
    items = files.get("content", []) if isinstance(files, dict) else files
    return {
        item["name"]: (int(item["size"]), item.get("sha256"))
        for item in items
        if item.get("size") is not None
    }


def _select(links: dict[str, str], paths: list[str]) -> dict[str, str]:
    for path in links:
        parts = PurePosixPath(path).parts
        if PurePosixPath(path).is_absolute() or ".." in parts or not parts:
            raise PushError(f"the hub sent an unsafe path: {path!r}", hint="tell the organizer")
    safe = {
        path: url for path, url in links.items() if PurePosixPath(path).parts[0] not in PROTECTED
    }
    if not paths:
        return safe
    wanted = {PurePosixPath(path).as_posix() for path in paths}
    missing = sorted(wanted - safe.keys())
    if missing:
        raise PushError(
            "not in this submission: " + ", ".join(missing),
            hint="`crunch submission show N` lists its files",
        )
    return {path: url for path, url in safe.items() if path in wanted}
