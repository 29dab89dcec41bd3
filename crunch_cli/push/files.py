"""Which files of a workspace make up a submission.

Code files are the workspace minus what never belongs in a submission (data, metadata,
caches, secrets, virtual environments: any folder with a `pyvenv.cfg`) and minus whatever
the user's `.gitignore` files exclude, with git's own semantics: a nested `.gitignore`
rules its own folder, the deepest matching rule wins, `!` re-includes, and an ignored
folder is not entered. Model files are everything under the model directory, filtered by
the same defaults and by the `.gitignore` files inside it only: a root `.gitignore` very
often excludes the model directory from git, and that must not silently empty the
submission.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from crunch_cli.errors import PushError
from crunch_cli.workspace import DATA_DIRECTORY, METADATA_DIRECTORY, PREDICTION_DIRECTORY

if TYPE_CHECKING:
    import pathspec

GITIGNORE = ".gitignore"
VIRTUAL_ENVIRONMENT_MARK = "pyvenv.cfg"
# Never part of a submission, whatever the .gitignore files say. Other files that look like
# secrets are not dropped silently but refused (push/secrets.py); `.env` stays here because
# pushes have always left it behind without a word, and a refusal would break them.
ALWAYS_IGNORED = (
    ".git/",
    "__pycache__/",
    ".ipynb_checkpoints/",
    "*.pyc",
    ".DS_Store",
    ".env",
)


@dataclasses.dataclass(frozen=True)
class LocalFile:
    """A file to send: `path` is POSIX, relative to the workspace (code) or model directory."""

    path: str
    source: Path


def code_files(root: Path, model_directory: str) -> list[LocalFile]:
    excluded = {METADATA_DIRECTORY, DATA_DIRECTORY, PREDICTION_DIRECTORY, model_directory}
    return sorted(_walk(root, root, excluded_top=excluded), key=lambda file: file.path)


def model_files(root: Path, model_directory: str) -> list[LocalFile]:
    directory = root / model_directory
    if not directory.is_dir():
        return []
    return sorted(_walk(root, directory, excluded_top=set()), key=lambda file: file.path)


def _walk(root: Path, top: Path, *, excluded_top: set[str]) -> Iterator[LocalFile]:
    """Yield files under `top`, paths relative to `top`, applying the ignore rules."""
    always = _spec(ALWAYS_IGNORED)
    real_root = root.resolve()
    visited: set[Path] = set()
    # Each stack entry: (folder, its path relative to top, the .gitignore rules in force).
    stack: list[tuple[Path, PurePosixPath, list[tuple[PurePosixPath, pathspec.GitIgnoreSpec]]]] = [
        (top, PurePosixPath(), [])
    ]
    while stack:
        folder, relative, rules = stack.pop()
        real = folder.resolve()
        if real in visited:  # a symlink loop inside the workspace
            continue
        visited.add(real)
        rules = rules + _gitignore_rules(folder, relative)
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda entry: entry.name):
                path = relative / entry.name
                if not relative.parts and entry.name in excluded_top:
                    continue
                is_dir = entry.is_dir(follow_symlinks=True)
                candidate = f"{path}/" if is_dir else str(path)
                if always.match_file(candidate) or _ignored(candidate, rules):
                    continue
                if entry.is_symlink():
                    _check_inside(Path(entry.path), real_root, root)
                if is_dir and (Path(entry.path) / VIRTUAL_ENVIRONMENT_MARK).is_file():
                    continue  # a virtual environment: installed packages, not the user's code
                if is_dir:
                    stack.append((Path(entry.path), path, rules))
                elif entry.is_file(follow_symlinks=True):
                    yield LocalFile(str(path), Path(entry.path))


def _gitignore_rules(
    folder: Path, relative: PurePosixPath
) -> list[tuple[PurePosixPath, pathspec.GitIgnoreSpec]]:
    gitignore = folder / GITIGNORE
    if not gitignore.is_file():
        return []
    return [(relative, _spec(gitignore.read_text(errors="replace").splitlines()))]


def _ignored(candidate: str, rules: list[tuple[PurePosixPath, pathspec.GitIgnoreSpec]]) -> bool:
    """The deepest `.gitignore` with a matching rule decides, as in git."""
    for base, spec in reversed(rules):
        inside = candidate if not base.parts else candidate[len(str(base)) + 1 :]
        decision = spec.check_file(inside).include
        if decision is not None:
            return decision
    return False


def _check_inside(link: Path, real_root: Path, root: Path) -> None:
    target = link.resolve()
    if target != real_root and real_root not in target.parents:
        raise PushError(
            f"{link.relative_to(root)} is a symlink to {target}, outside the workspace",
            hint="copy the file into the workspace, or add the link to .gitignore",
        )


def _spec(lines: tuple[str, ...] | list[str]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)
