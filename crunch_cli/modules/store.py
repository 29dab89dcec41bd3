"""A workspace's copy of its competition's modules: `.crunchdao/modules/<kind>.py`, with the
sha256 of each recorded in `.crunchdao/competition.json` when they were downloaded.

`crunch test` runs only what was downloaded and still hashes the same: a module changed on
disk since (by a tool, or by code that ran in the workspace) is refused, not run.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from crunch_cli.errors import WorkspaceError
from crunch_cli.modules.sources import SourceError, load
from crunch_cli.workspace import Workspace, atomic_write_bytes

KINDS = ("runner", "scoring", "leaderboard", "reward", "submission")
FOLDER = "modules"


def modules_dir(workspace: Workspace) -> Path:
    return workspace.metadata_dir / FOLDER


def local_modules(workspace: Workspace, destination: Path) -> dict[str, Path]:
    """Copies of the workspace's modules in `destination`, each checked against its sha256."""
    recorded = workspace.read_competition_cache().get("modules") or {}
    if "runner" not in recorded:
        raise WorkspaceError(
            "this competition runs its own modules, and the workspace has none",
            hint="run `crunch download` to fetch them",
        )
    destination.mkdir(parents=True, exist_ok=True)
    copies: dict[str, Path] = {}
    for kind, sha256 in recorded.items():
        if kind not in KINDS:
            continue
        source = modules_dir(workspace) / f"{kind}.py"
        content = source.read_bytes() if source.is_file() else None
        if content is None or hashlib.sha256(content).hexdigest() != sha256:
            raise WorkspaceError(
                f".crunchdao/{FOLDER}/{kind}.py is missing or changed since it was downloaded",
                hint="run `crunch download` to fetch the competition's modules again",
            )
        copies[kind] = destination / f"{kind}.py"
        shutil.copyfile(source, copies[kind])
    return copies


def fetch_modules(source: str, competition: str) -> dict[str, bytes]:
    """Every module kind the competition has, from `source`; a runner at least."""
    found: dict[str, bytes] = {}
    for kind in KINDS:
        loaded = load(source, competition, kind)
        if loaded is not None:
            found[kind] = loaded[0]
    if "runner" not in found:
        raise SourceError(
            f"{competition} runs its own modules, but {source} has no runner.py for it",
            hint="point --competitions (or CRUNCH_COMPETITIONS_SOURCE) at a source that has it",
        )
    return found


def save_modules(workspace: Workspace, found: dict[str, bytes]) -> dict[str, str]:
    """Write `found` into `.crunchdao/modules/` (the kinds it lacks are removed): kind → sha256."""
    folder = modules_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, content in found.items():
        atomic_write_bytes(folder / f"{kind}.py", content)
    for kind in KINDS:
        if kind not in found:
            (folder / f"{kind}.py").unlink(missing_ok=True)
    return {kind: hashlib.sha256(content).hexdigest() for kind, content in found.items()}
