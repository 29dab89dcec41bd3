"""A competition's quickstarters, at the paths crunch-cli 13 reads them from.

Public, like the competition itself: starter code is what a newcomer reads first. A file's
`url` is this hub's own address for its bytes, which crunch-cli 13 fetches with no token;
`size` and `sha256` are ours, for clients that check what they write.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from crunch_cli.errors import BlobIntegrityError
from crunch_cli.hub import lookups
from crunch_cli.hub.deps import BaseUrlDep, SessionDep, StoreDep
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.models import Competition
from crunch_cli.hub.quickstarters import Starter, file_content, find_starter, list_starters

router = APIRouter()
PYTHON = "PYTHON"


@router.get("/v2/competitions/{competition}/quickstarters")
def list_quickstarters(competition: str, session: SessionDep) -> list[dict[str, Any]]:
    row = lookups.competition(session, competition)
    return [_view(starter) for starter in list_starters(session, row)]


@router.get("/v2/competitions/{competition}/quickstarters/{name}")
def get_quickstarter(
    competition: str, name: str, session: SessionDep, base_url: BaseUrlDep
) -> dict[str, Any]:
    row = lookups.competition(session, competition)
    starter = _found(session, row, name)
    base = f"{base_url}/v2/competitions/{quote(row.name)}/quickstarters/{quote(name)}/files/"
    # No GitHub copy here: the hub's own address stands in for it.
    files = [
        {
            "name": item.name,
            "url": base + quote(item.name),
            "githubUrl": base + quote(item.name),
            "size": item.size,
            "sha256": item.sha256,
        }
        for item in starter.files
    ]
    return {**_view(starter), "files": files}


@router.get("/v2/competitions/{competition}/quickstarters/{name}/files/{file_name}")
def get_quickstarter_file(
    competition: str, name: str, file_name: str, session: SessionDep, store: StoreDep
) -> Response:
    """The file's bytes, with its sha256 as ETag."""
    starter = _found(session, lookups.competition(session, competition), name)
    item = next((item for item in starter.files if item.name == file_name), None)
    if item is None:
        raise not_found(
            "QUICKSTARTER_FILE_NOT_FOUND",
            f"quickstarter {name!r} has no file {file_name!r}",
            quickstarterName=name,
            fileName=file_name,
        )
    try:
        content = file_content(store, item)
    except BlobIntegrityError as error:
        raise HubApiError(500, "QUICKSTARTER_DAMAGED", error.message) from error
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"ETag": f'"{item.sha256}"', "X-Content-Type-Options": "nosniff"},
    )


def _found(session: Session, row: Competition, name: str) -> Starter:
    starter = find_starter(session, row, name)
    if starter is None:
        raise not_found(
            "QUICKSTARTER_NOT_FOUND",
            f"competition {row.name!r} has no quickstarter {name!r}",
            quickstarterName=name,
        )
    return starter


def _view(starter: Starter) -> dict[str, Any]:
    return {
        "id": starter.id,
        "name": starter.name,
        "title": starter.title,
        "authors": [],
        "language": PYTHON,
        "notebook": starter.notebook,
    }
