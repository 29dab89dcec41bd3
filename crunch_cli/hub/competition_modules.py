"""A competition's own modules and hidden files, as the hub stores and hands them out.

Modules are content blobs like every other stored file, recorded per competition and kind
(`CompetitionModule`); replacing them records new blobs, so a run or a client that already
read a module keeps reading the bytes it started with. Their source is only ever read as
bytes, checked against its sha256: the hub never imports or executes it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub.models import Competition, CompetitionModule
from crunch_cli.hub.module_check import MAX_MODULE_BYTES, ModuleSource
from crunch_cli.hub.store import HubStore


@dataclasses.dataclass(frozen=True)
class StoredModule:
    kind: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class RunInputs:
    """What a hub run of the competition needs besides the release and the submission:
    `modules` maps a kind (`runner`, `scoring`, ...) to its (source, sha256), and
    `hidden_files` a path relative to the data folder to the stored file to lay there.
    """

    modules: dict[str, tuple[bytes, str]]
    hidden_files: dict[str, Path]


def store_modules(
    store: HubStore, session: Session, competition_id: int, modules: dict[str, ModuleSource]
) -> list[StoredModule]:
    """Make `modules` the competition's only ones, inside the caller's transaction."""
    rows = []
    for module in modules.values():
        key, size, sha256 = store.blobs.put_file(module.path)
        if sha256 != module.sha256:
            raise CrunchError(
                f"{module.path} changed while it was being registered",
                hint="run the command again once nothing writes the modules",
            )
        rows.append(
            CompetitionModule(
                competition_id=competition_id,
                kind=module.kind,
                blob_key=key,
                size=size,
                sha256=sha256,
            )
        )
    session.execute(
        delete(CompetitionModule).where(CompetitionModule.competition_id == competition_id)
    )
    session.add_all(rows)
    return [_summary(row) for row in rows]


def stored_modules(session: Session, competition_id: int) -> list[StoredModule]:
    return [_summary(row) for row in _rows(session, competition_id)]


def _rows(session: Session, competition_id: int) -> list[CompetitionModule]:
    return list(
        session.scalars(
            select(CompetitionModule)
            .where(CompetitionModule.competition_id == competition_id)
            .order_by(CompetitionModule.id)
        )
    )


def module_source(
    store: HubStore, session: Session, competition_id: int, kind: str
) -> tuple[bytes, str] | None:
    """The module's (source, sha256), or None when the competition has no module of that
    kind; a stored blob that no longer matches its sha256 raises BlobIntegrityError.
    """
    row = session.scalars(
        select(CompetitionModule).where(
            CompetitionModule.competition_id == competition_id, CompetitionModule.kind == kind
        )
    ).one_or_none()
    if row is None:
        return None
    return store.blobs.read_verified(row.blob_key, row.sha256, MAX_MODULE_BYTES), row.sha256


def run_inputs(store: HubStore, session: Session, competition: Competition) -> RunInputs:
    """The competition's modules and hidden files, for the run executor: every module's
    source is read and verified now, the hidden files are left where they are stored.
    """
    modules = {}
    for row in _rows(session, competition.id):
        source = store.blobs.read_verified(row.blob_key, row.sha256, MAX_MODULE_BYTES)
        modules[row.kind] = (source, row.sha256)
    hidden_files = {
        item.name: store.blobs.local_file(item.blob_key, item.sha256)
        for item in competition.data_files
        if item.hidden
    }
    return RunInputs(modules, hidden_files)


def _summary(row: CompetitionModule) -> StoredModule:
    return StoredModule(row.kind, row.size, row.sha256)
