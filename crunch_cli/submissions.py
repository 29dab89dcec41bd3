"""Bring a pushed submission's files back into a workspace (`setup`, `submission checkout`).

A submission is someone's upload, and the hub that serves it may be hostile: its file list
is checked like any name from a hub (`crunch_cli.untrusted`), and only files that
`crunch push` would have sent are restored. Never `data/`, `.crunchdao/`, version control,
virtual environments, Python start-up hooks, editor settings or caches: a file there could
run code the next time the user runs python, git or their editor. Files are fetched into a
scratch folder first, each checked against the size and sha256 the hub lists for it, and
compared with what is on disk; only then are they renamed into place, so a file that
arrives damaged writes nothing. A file the user changed is never replaced without `--force`.
The caller's progress hears each file's outcome only then: "downloaded" for a file written
into the workspace, "up to date" for one identical to it, nothing for one left alone.
"""

from __future__ import annotations

import dataclasses
import filecmp
import functools
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from crunch_cli.api import ProjectClient
from crunch_cli.download import Outcome, Progress, RemoteFile, SilentProgress, fetch_files
from crunch_cli.errors import (
    DownloadError,
    PushError,
    UntrustedInputError,
    WorkspaceExistsError,
)
from crunch_cli.push.files import ALWAYS_IGNORED, VIRTUAL_ENVIRONMENT_MARK
from crunch_cli.secret_names import secret_name_rule
from crunch_cli.untrusted import HINT, relative_name, target_inside
from crunch_cli.workspace import (
    DATA_DIRECTORY,
    METADATA_DIRECTORY,
    PREDICTION_DIRECTORY,
    Workspace,
)

if TYPE_CHECKING:
    import pathspec

PROTECTED = (DATA_DIRECTORY, METADATA_DIRECTORY, PREDICTION_DIRECTORY)
# Where a restored file could run code: git hooks and config, virtual environments and
# installed packages, interpreter start-up hooks, editor and direnv settings; and caches.
NEVER_RESTORED = (
    ".git/",
    ".hg/",
    ".svn/",
    ".venv/",
    "venv/",
    "site-packages/",
    "dist-packages/",
    "sitecustomize.py",
    "usercustomize.py",
    "*.pth",
    ".envrc",
    ".vscode/",
    ".idea/",
    ".cache/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "node_modules/",
    *ALWAYS_IGNORED,
)


@dataclasses.dataclass
class CheckoutResult:
    written: list[str]
    unchanged: list[str]
    kept: list[str]  # differed locally and were left alone (keep_local)
    skipped: dict[str, str] = dataclasses.field(default_factory=dict)  # path -> why


def checkout(
    client: ProjectClient,
    workspace: Workspace,
    *,
    number: int | None = None,
    paths: list[str] | None = None,
    include_model: bool = False,
    force: bool = False,
    keep_local: bool = False,
    progress: Progress | None = None,
) -> CheckoutResult:
    """Write submission `number` (default: the last) of `client`'s project into the workspace.

    A local file that differs is an error listing every such file, unless `force` (replace)
    or `keep_local` (leave it; what setup does inside a folder the user already filled).
    """
    if number is None:  # one number for both calls, even if a push lands in between
        number = int(client.submission("@last")["number"])
    links = client.clone(submission_number=number, include_model=include_model or bool(paths))
    listed = _listed_files(client.submission_files(number))
    selected, skipped = _select(workspace.root, links, paths or [])
    remote = [
        RemoteFile.checked(path, path, url, *listed.get(path, (-1, None)), what="submission file")
        for path, url in selected.items()
    ]
    targets = {
        path: target_inside(workspace.root, PurePosixPath(path), what="submission file")
        for path in selected
    }
    progress = progress or SilentProgress()
    held = _HeldOutcomes(progress)
    scratch = Path(tempfile.mkdtemp(prefix=".checkout-", dir=workspace.metadata_dir))
    try:
        try:
            fetch_files(remote, scratch, progress=held, what="submission file")
        except DownloadError as error:
            error.message = f"submission #{number}: {error.message}; nothing was written"
            error.hint = (
                "run the command again; if it fails the same way, the hub's copy is damaged: "
                "tell the competition organizer"
            )
            raise
        result = CheckoutResult([], [], [], skipped)
        changed = []
        for path in sorted(selected):
            local = targets[path]
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
            target = targets[path]
            target.parent.mkdir(parents=True, exist_ok=True)
            (scratch / path).replace(target)
            result.written.append(path)
        held.tell(result.written, Outcome.DOWNLOADED)
        held.tell(result.unchanged, Outcome.UP_TO_DATE)
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _HeldOutcomes:
    """`progress` for the fetch into the scratch folder: bytes are shown as they arrive,
    but a file's outcome waits until the checkout knows what it did with the file."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._fetched: dict[str, RemoteFile] = {}

    def start(self, file: RemoteFile, completed: int) -> None:
        self._progress.start(file, completed)

    def advance(self, file: RemoteFile, amount: int) -> None:
        self._progress.advance(file, amount)

    def finish(self, file: RemoteFile, outcome: Outcome) -> None:
        self._fetched[file.name] = file

    def tell(self, paths: list[str], outcome: Outcome) -> None:
        for path in paths:
            self._progress.finish(self._fetched[path], outcome)


def _listed_files(files: list[dict[str, Any]] | dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """(size, sha256) of each file the hub lists, checked when used; hubs that do not give
    a sha256 (the hosted one) still give the size, which is checked alone then.
    """
    items = files.get("content", []) if isinstance(files, dict) else files
    return {
        item["name"]: (item["size"], item.get("sha256"))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("name"), str) and "size" in item
    }


def _select(
    root: Path, links: dict[str, str], paths: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The links to restore (those asked for, all by default), and the paths left out with
    why. Any unsafe name fails the whole checkout before anything is fetched.
    """
    if not isinstance(links, dict):
        raise UntrustedInputError("the hub sent no list of the submission's files", hint=HINT)
    safe: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for path, url in links.items():
        name = relative_name(path, what="submission file").as_posix()
        reason = _not_restorable(root, name)
        if reason is None:
            safe[name] = url
        else:
            skipped[name] = reason
    if not paths:
        return safe, skipped
    wanted = {PurePosixPath(path).as_posix() for path in paths}
    missing = sorted(wanted - safe.keys() - skipped.keys())
    if missing:
        raise PushError(
            "not in this submission: " + ", ".join(missing),
            hint="`crunch submission show N` lists its files",
        )
    refused = sorted(wanted & skipped.keys())
    if refused:
        raise PushError(
            "never restored: " + ", ".join(f"{path} ({skipped[path]})" for path in refused),
            hint="download it from the hub's website and check it before using it",
        )
    return {path: url for path, url in safe.items() if path in wanted}, {}


def _not_restorable(root: Path, path: str) -> str | None:
    """Why `path` is not written into the workspace, or None when it may be."""
    if PurePosixPath(path).parts[0] in PROTECTED:
        return "the workspace's own folder"
    if _never_restored(path):
        return "could run code or is a cache"
    if secret_name_rule(path) is not None:
        return "named like a secret"
    folder = root
    for part in PurePosixPath(path).parts[:-1]:
        folder = folder / part
        if (folder / VIRTUAL_ENVIRONMENT_MARK).is_file():
            return "inside a virtual environment"
    return None


def _never_restored(path: str) -> bool:
    return _never_restored_spec().match_file(path)


@functools.cache
def _never_restored_spec() -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(NEVER_RESTORED)
