"""A competition's own modules, served as source at the layout of crunch-cli's competitions
cache (`cache+http(s)://HOST` → `HOST/competitions/<name>/scoring/<kind>.py`), public like
the crunchdao/competitions repository, so `crunch --competitions cache+http://HUB` loads
them from this hub. A 404 is how crunch-cli learns a competition has no module of a kind.

When the hub's public URL has a path (a proxy passes `/hub/...` on as it is), the modules
are served under that prefix too, where a client given that URL asks for them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request, Response

from crunch_cli.errors import BlobIntegrityError
from crunch_cli.hub import lookups
from crunch_cli.hub.competition_modules import module_source
from crunch_cli.hub.deps import SessionDep, StoreDep
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.settings import HubSettings

# Source files, not JSON: outside the API schema, like the website's pages.
router = APIRouter(include_in_schema=False)
MEDIA_TYPE = "text/x-python; charset=utf-8"


def install(app: FastAPI, settings: HubSettings) -> None:
    app.include_router(router)
    prefix = urlsplit(settings.public_url or "").path.rstrip("/")
    if prefix:
        app.include_router(router, prefix=prefix)


@router.get("/competitions/{competition}/scoring/{kind}.py")
def source(
    competition: str, kind: str, request: Request, session: SessionDep, store: StoreDep
) -> Response:
    """The module as stored, with its sha256 as ETag; the same ETag answers 304, and
    `no-cache` makes caches ask again, since an organizer may replace the module.
    """
    row = lookups.competition(session, competition)
    try:
        found = module_source(store, session, row.id, kind)
    except BlobIntegrityError as error:
        # Never a 404: crunch-cli would take it for "this competition has no such module".
        raise HubApiError(500, "MODULE_DAMAGED", error.message) from error
    if found is None:
        raise not_found(
            "MODULE_NOT_FOUND",
            f"competition {row.name!r} has no {kind}.py",
            competitionName=row.name,
            kind=kind,
        )
    content, sha256 = found
    headers = {"ETag": f'"{sha256}"', "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=MEDIA_TYPE, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags
