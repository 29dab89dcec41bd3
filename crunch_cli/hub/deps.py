"""Request dependencies shared by the routers: the store, a transaction, the caller's
project (authentication) and paging parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs

from annotated_types import Ge, Lt
from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from crunch_cli.hub import lookups
from crunch_cli.hub.errors import HubApiError
from crunch_cli.hub.models import Project
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.tokens import project_for_token

TOKEN_SCHEMES = ("project-token", "bearer")
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

# An id, number or count in a path, a query or a body: what the database can store, so a
# larger one is refused as invalid instead of failing in the database.
StoredInt = Annotated[int, Ge(0), Lt(lookups.MAX_ID)]


def get_store(request: Request) -> HubStore:
    store: HubStore = request.app.state.store
    return store


def get_session(
    request: Request, store: Annotated[HubStore, Depends(get_store)]
) -> Iterator[Session]:
    """One transaction per request, committed when the route returns without raising.

    Used with `scope="function"`: the commit happens before the response leaves, so a
    client never sees an answer whose effect is not yet in the database. GET and HEAD
    only read.
    """
    with store.session(write=request.method not in ("GET", "HEAD")) as session:
        yield session


StoreDep = Annotated[HubStore, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def presented_token(request: Request) -> str | None:
    """The project token, from the header or (older clients) a `pushToken` field."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in TOKEN_SCHEMES:
            raise HubApiError(401, "UNAUTHORIZED", f"this hub does not accept {scheme} credentials")
        return value.strip() or None
    if token := request.query_params.get("pushToken"):
        return token
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get("pushToken")
        if values:
            return values[0]
    return None


def current_project(
    session: SessionDep, token: Annotated[str | None, Depends(presented_token)]
) -> Project:
    if token is None:
        raise HubApiError(
            401, "UNAUTHORIZED", "this call needs a project token (Authorization: Project-Token)"
        )
    project = project_for_token(session, token)
    if project is None:
        raise HubApiError(
            401,
            "INVALID_PROJECT_TOKEN",
            "the project token is unknown, expired or replaced by a newer one",
            tokenType="PROJECT",
        )
    return project


ProjectDep = Annotated[Project, Depends(current_project)]


def path_project(
    competition: str, user_selector: str, name: str, session: SessionDep, caller: ProjectDep
) -> Project:
    """The project of a `/competitions/{competition}/projects/{user_selector}/{name}` path,
    which must be the caller's own; its competition is `project.competition`."""
    row = lookups.competition(session, competition)
    return lookups.own_project(session, row, user_selector, name, caller)


OwnProjectDep = Annotated[Project, Depends(path_project)]


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int


def page_request(
    page: Annotated[int, Query(ge=0, lt=lookups.MAX_ID // MAX_PAGE_SIZE)] = 0,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> PageRequest:
    return PageRequest(page, size)


PageDep = Annotated[PageRequest, Depends(page_request)]


def page_request_if_asked(
    page: Annotated[int | None, Query(ge=0, lt=lookups.MAX_ID // MAX_PAGE_SIZE)] = None,
    size: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
) -> PageRequest | None:
    """None when the client asked for no page: a listing the hosted hub answers as a
    plain array (crunch-cli 13's `runs.list()`) keeps that shape for such a client, and
    pages for one that asks (ours)."""
    if page is None and size is None:
        return None
    return page_request(page or 0, size or DEFAULT_PAGE_SIZE)


OptionalPageDep = Annotated[PageRequest | None, Depends(page_request_if_asked)]


def public_base_url(request: Request) -> str:
    """Where clients reach this hub: the configured public URL, else this request's."""
    store: HubStore = request.app.state.store
    return (store.settings.public_url or str(request.base_url)).rstrip("/")


BaseUrlDep = Annotated[str, Depends(public_base_url)]
