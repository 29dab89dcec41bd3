"""A competition's quickstarters: the package's templates for its built-in format, and the
ones its organizer adds (`crunch hub competition quickstarter add`).

An organizer's files are content blobs like every other stored file (`Quickstarter`,
`QuickstarterFile`), read back only through their sha256. A built-in format offers its
template as two quickstarters, `notebook` (main.ipynb) and `code` (main.py), each with the
template's requirements.txt; an organizer's quickstarter of the same name takes the place
of the built-in one, so an organizer can replace the starter code the hub gives out.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub.models import Competition, QuickstarterFile, utcnow
from crunch_cli.hub.models import Quickstarter as QuickstarterRow
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore
from crunch_cli.runner.spec import BUILT_IN

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES = 20
NOTEBOOK_SUFFIX = ".ipynb"
# Built-in quickstarters: (name, title, files from the format's template folder).
BUILT_IN_QUICKSTARTERS = (
    ("notebook", "Starter notebook", ("main.ipynb", "requirements.txt")),
    ("code", "Starter code", ("main.py", "requirements.txt")),
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# What a file of a quickstarter may be called: one plain file name, no folder.
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")


@dataclasses.dataclass(frozen=True)
class StarterFile:
    """One file: a template of the package (`template`) or a stored blob (`blob_key`)."""

    name: str
    size: int
    sha256: str
    template: str | None = None
    blob_key: str | None = None


@dataclasses.dataclass(frozen=True)
class Starter:
    """A quickstarter as the hub lists it. Built-in ones have negative ids: they are no row
    of the database, and an id must still tell them apart from every stored one."""

    id: int
    name: str
    title: str
    files: tuple[StarterFile, ...]

    @property
    def notebook(self) -> bool:
        return bool(self.files) and self.files[0].name.endswith(NOTEBOOK_SUFFIX)


def list_starters(session: Session, competition: Competition) -> list[Starter]:
    """The competition's quickstarters: built-in ones first, then the organizer's, each
    organizer's one replacing a built-in one of its name."""
    stored = {
        row.name: Starter(
            row.id,
            row.name,
            row.title,
            tuple(
                StarterFile(item.name, item.size, item.sha256, blob_key=item.blob_key)
                for item in row.files
            ),
        )
        for row in session.scalars(
            select(QuickstarterRow)
            .where(QuickstarterRow.competition_id == competition.id)
            .order_by(QuickstarterRow.id)
        )
    }
    built_in = [
        stored.pop(starter.name, starter) for starter in _built_in_starters(competition.format)
    ]
    return [*built_in, *stored.values()]


def find_starter(session: Session, competition: Competition, name: str) -> Starter | None:
    return next((item for item in list_starters(session, competition) if item.name == name), None)


def file_content(store: HubStore, item: StarterFile) -> bytes:
    """The file's bytes; a stored blob that no longer matches its sha256 raises
    BlobIntegrityError."""
    if item.blob_key is not None:
        return store.blobs.read_verified(item.blob_key, item.sha256, MAX_FILE_BYTES)
    assert item.template is not None
    return _template_bytes(item.template, item.name)


def add_quickstarter(
    settings: HubSettings,
    competition: str,
    files: Sequence[Path],
    *,
    name: str | None = None,
    title: str | None = None,
) -> Starter:
    """Store `files` as the quickstarter `name` (default: the first file's stem) of the
    competition, replacing one of that name; a notebook among them is listed first, since
    that is how crunch-cli tells a notebook quickstarter. Nothing is stored unless every
    file is readable, small enough and named once.
    """
    if not files:
        raise CrunchError("a quickstarter needs at least one file", hint="name its files")
    name = name or files[0].stem
    if not _NAME.match(name):
        raise CrunchError(
            f"invalid quickstarter name {name!r}",
            hint="pass --name with letters, digits, '-', '_' or '.', starting with one of the "
            "first two",
        )
    ordered = sorted(files, key=lambda path: not path.name.endswith(NOTEBOOK_SUFFIX))
    _check_files(ordered)
    with HubStore(settings) as store:
        stored = [(path.name, *_put(store, path)) for path in ordered]
        with store.session() as session:
            row = session.scalars(select(Competition).where(Competition.name == competition))
            found = row.one_or_none()
            if found is None:
                raise CrunchError(
                    f"no competition named {competition!r} on this hub",
                    hint="run `crunch hub competition list` to see them",
                )
            session.execute(
                delete(QuickstarterRow).where(
                    QuickstarterRow.competition_id == found.id, QuickstarterRow.name == name
                )
            )
            quickstarter = QuickstarterRow(
                competition_id=found.id,
                name=name,
                title=title or name,
                created_at=utcnow(),
                files=[
                    QuickstarterFile(
                        position=position, name=file_name, blob_key=key, size=size, sha256=sha256
                    )
                    for position, (file_name, key, size, sha256) in enumerate(stored)
                ],
            )
            session.add(quickstarter)
            session.flush()
            return Starter(
                quickstarter.id,
                name,
                quickstarter.title,
                tuple(StarterFile(item[0], item[2], item[3], blob_key=item[1]) for item in stored),
            )


def _check_files(files: Sequence[Path]) -> None:
    if len(files) > MAX_FILES:
        raise CrunchError(
            f"a quickstarter holds at most {MAX_FILES} files, not {len(files)}",
            hint="keep the starter small: put data and models elsewhere",
        )
    names = [path.name for path in files]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise CrunchError(
            f"two files are named {', '.join(duplicates)}",
            hint="a quickstarter's files land side by side in the workspace: rename one",
        )
    for path in files:
        if not _FILE_NAME.match(path.name):
            raise CrunchError(
                f"invalid quickstarter file name {path.name!r}",
                hint="use letters, digits, '-', '_' or '.', not starting with '.' or '-'",
            )
        if not path.is_file():
            raise CrunchError(f"{path} is not a file", hint="name an existing file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CrunchError(
                f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                hint="a quickstarter is code: leave data and models out of it",
            )


def _put(store: HubStore, path: Path) -> tuple[str, int, str]:
    try:
        return store.blobs.put_file(path)
    except OSError as error:
        raise CrunchError(
            f"cannot store {path}: {error.strerror or error}",
            hint="check that it is readable and the hub's folder writable; nothing was added",
        ) from error


def _built_in_starters(wire_format: str) -> tuple[Starter, ...]:
    built_in = next((item for key, item in BUILT_IN.items() if key.value == wire_format), None)
    # An unstructured competition has none: its organizer brings its starters.
    return () if built_in is None else _template_starters(built_in.label)


@functools.cache
def _template_starters(label: str) -> tuple[Starter, ...]:
    """Read once per process: the templates are part of the installed package."""
    starters = []
    for index, (name, title, file_names) in enumerate(BUILT_IN_QUICKSTARTERS, start=1):
        files = []
        for file_name in file_names:
            content = _template_bytes(label, file_name)
            digest = hashlib.sha256(content).hexdigest()
            files.append(StarterFile(file_name, len(content), digest, template=label))
        starters.append(Starter(-index, name, f"{title} ({label})", tuple(files)))
    return tuple(starters)


def _template_bytes(label: str, file_name: str) -> bytes:
    return resources.files("crunch_cli").joinpath("templates", label, file_name).read_bytes()
