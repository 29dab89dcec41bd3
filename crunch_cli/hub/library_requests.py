"""Requests to whitelist a library: a participant asks (`crunch whitelist request`, the
same call as crunch-cli 13's), the organizer reviews (`crunch hub whitelist requests`) and
approves, which adds the library to the hub's whitelist file, or rejects.

A request is only a wish: nothing a participant sends reaches the whitelist without the
organizer's approval, and a project may keep only so many requests pending at once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub import views, whitelist
from crunch_cli.hub.errors import HubApiError
from crunch_cli.hub.models import Competition, LibraryRequest, Project, User, utcnow
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore

PENDING = "PENDING"
APPROVED = "APPROVED"
REJECTED = "REJECTED"
LANGUAGES = ("PYTHON", "R")
GPU_REQUIREMENTS = ("OPTIONAL", "RECOMMENDED", "REQUIRED")
MAX_PENDING_PER_PROJECT = 20
MAX_NAME_LENGTH = 100
MAX_DETAILS_LENGTH = 2000
# A distribution name as PyPI spells one (PEP 508), or a module name.
_LIBRARY_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


class NewLibraryRequest(BaseModel):
    """The body of `POST /v1/library-requests`, as crunch-cli 13 sends it."""

    model_config = ConfigDict(populate_by_name=True)

    competition_id: int | None = Field(default=None, alias="competitionId")
    name: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    alias: str | None = Field(default=None, max_length=MAX_NAME_LENGTH)
    language: str | None = None
    gpu_requirement: str | None = Field(default=None, alias="gpuRequirement")
    additional_details: str | None = Field(
        default=None, max_length=MAX_DETAILS_LENGTH, alias="additionalDetails"
    )


@dataclasses.dataclass(frozen=True)
class RequestSummary:
    """A request as the organizer reviews it."""

    id: int
    created_at: datetime
    competition: str
    user: str
    project: str
    name: str | None
    alias: str | None
    language: str
    gpu_requirement: str | None
    additional_details: str | None
    verdict: str
    verdict_reason: str | None


def create(
    session: Session,
    project: Project,
    body: NewLibraryRequest,
    libraries: Iterable[whitelist.Library],
) -> LibraryRequest:
    """Record the request; one for a library already whitelisted is approved at once."""
    if body.competition_id is not None and body.competition_id != project.competition_id:
        raise HubApiError(403, "ACCESS_DENIED", "this project token opens another competition")
    name, alias = _library_name(body.name, "name"), _library_name(body.alias, "alias")
    if name is None and alias is None:
        raise _invalid("name", "give the library's name, its alias (import name), or both")
    language = _choice(body.language or LANGUAGES[0], LANGUAGES, "language")
    gpu = (
        None
        if body.gpu_requirement is None
        else _choice(body.gpu_requirement, GPU_REQUIREMENTS, "gpuRequirement")
    )
    # Counting and adding must see every other request of the project: lock its row
    # (SQLite's BEGIN IMMEDIATE already lets one writer through at a time; PostgreSQL
    # needs the lock).
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    pending = session.scalar(
        select(func.count())
        .select_from(LibraryRequest)
        .where(LibraryRequest.project_id == project.id, LibraryRequest.verdict == PENDING)
    )
    if (pending or 0) >= MAX_PENDING_PER_PROJECT:
        raise HubApiError(
            429,
            "TOO_MANY_LIBRARY_REQUESTS",
            f"this project already has {pending} library requests waiting for review",
            limit=MAX_PENDING_PER_PROJECT,
        )
    known = [
        library
        for library in whitelist.search(libraries, language=language)
        if any(_same(value, wanted) for value in library.names() for wanted in (name, alias))
    ]
    row = LibraryRequest(
        project_id=project.id,
        name=name,
        alias=alias,
        language=language,
        gpu_requirement=gpu,
        additional_details=body.additional_details,
        created_at=utcnow(),
    )
    if known:
        row.verdict, row.verdict_at = APPROVED, row.created_at
        row.verdict_reason = f"already whitelisted as {known[0].name}"
    session.add(row)
    session.flush()
    return row


def view(row: LibraryRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "alias": row.alias,
        "language": row.language,
        "gpuRequirement": row.gpu_requirement,
        "additionalDetails": row.additional_details,
        "verdict": row.verdict,
        "verdictReason": row.verdict_reason,
        "verdictAt": views.iso(row.verdict_at),
        "createdAt": views.iso(row.created_at),
    }


def list_requests(settings: HubSettings, *, pending_only: bool = False) -> list[RequestSummary]:
    """Every request, oldest first (only those waiting, with `pending_only`)."""
    query = (
        select(LibraryRequest, Project, User, Competition)
        .join(Project, LibraryRequest.project_id == Project.id)
        .join(User, Project.user_id == User.id)
        .join(Competition, Project.competition_id == Competition.id)
        .order_by(LibraryRequest.id)
    )
    if pending_only:
        query = query.where(LibraryRequest.verdict == PENDING)
    with HubStore(settings) as store, store.session(write=False) as session:
        return [
            RequestSummary(
                id=row.id,
                created_at=row.created_at,
                competition=competition.name,
                user=user.login,
                project=project.name,
                name=row.name,
                alias=row.alias,
                language=row.language,
                gpu_requirement=row.gpu_requirement,
                additional_details=row.additional_details,
                verdict=row.verdict,
                verdict_reason=row.verdict_reason,
            )
            for row, project, user, competition in session.execute(query).all()
        ]


def approve(settings: HubSettings, name: str) -> list[int]:
    """Whitelist the library the pending requests for `name` (by name or alias) ask for,
    with their aliases and GPU requirement, and mark them approved; returns their ids.

    The whitelist file is written first: should the database then fail, the library is
    allowed and approving again only marks the requests.
    """
    with HubStore(settings) as store, store.session() as session:
        rows = _pending(session, name)
        library = next((row.name for row in rows if row.name), name)
        aliases = [row.alias for row in rows if row.alias and not _same(row.alias, library)]
        gpu = next((row.gpu_requirement for row in rows if row.gpu_requirement), None)
        whitelist.add_library(
            settings.root / whitelist.EXTRA_FILE,
            library,
            aliases=aliases,
            gpu_requirement=gpu or whitelist.DEFAULT_GPU_REQUIREMENT,
            language=rows[0].language,
        )
        _decide(rows, APPROVED, f"whitelisted as {library}")
        return [row.id for row in rows]


def reject(settings: HubSettings, name: str, reason: str | None) -> list[int]:
    """Mark the pending requests for `name` rejected; returns their ids."""
    with HubStore(settings) as store, store.session() as session:
        rows = _pending(session, name)
        _decide(rows, REJECTED, reason)
        return [row.id for row in rows]


def _pending(session: Session, name: str) -> list[LibraryRequest]:
    rows = [
        row
        for row in session.scalars(
            select(LibraryRequest).where(LibraryRequest.verdict == PENDING).order_by("id")
        )
        if _same(row.name, name) or _same(row.alias, name)
    ]
    if not rows:
        raise CrunchError(
            f"no pending library request for {name!r}",
            hint="`crunch hub whitelist requests` lists them; approve one by its name or alias",
        )
    return rows


def _decide(rows: list[LibraryRequest], verdict: str, reason: str | None) -> None:
    now = utcnow()
    for row in rows:
        row.verdict, row.verdict_reason, row.verdict_at = verdict, reason, now


def _same(value: str | None, other: str | None) -> bool:
    return value is not None and other is not None and value.casefold() == other.casefold()


def _library_name(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _LIBRARY_NAME.match(value):
        raise _invalid(field, "letters, digits, '.', '_' or '-', as on PyPI")
    return value


def _choice(value: str, choices: tuple[str, ...], field: str) -> str:
    if value.upper() not in choices:
        raise _invalid(field, f"one of {', '.join(choices)}")
    return value.upper()


def _invalid(field: str, message: str) -> HubApiError:
    return HubApiError(
        400,
        "VALIDATION_FAILED",
        f"invalid library request ({field}: {message})",
        fieldErrors=[{"field": field, "message": message}],
    )
