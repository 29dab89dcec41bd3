"""`POST /v1/library-requests`: a participant asks for a library to be whitelisted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from crunch_cli.hub import library_requests
from crunch_cli.hub.deps import ProjectDep, SessionDep

router = APIRouter()


@router.post("/v1/library-requests")
def create_library_request(
    body: library_requests.NewLibraryRequest,
    request: Request,
    session: SessionDep,
    project: ProjectDep,
) -> dict[str, Any]:
    created = library_requests.create(session, project, body, request.app.state.libraries)
    return library_requests.view(created)
