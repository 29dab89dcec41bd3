"""Who the caller is, and their projects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crunch_cli.hub import lookups, views
from crunch_cli.hub.deps import OwnProjectDep, ProjectDep, SessionDep

router = APIRouter()


@router.get("/v2/users/{user_selector}")
def get_user(user_selector: str, session: SessionDep, caller: ProjectDep) -> dict[str, Any]:
    return views.user(lookups.user(session, user_selector, caller.user))


@router.get("/v3/competitions/{competition}/projects/{user_selector}/{name}")
def get_project(project: OwnProjectDep) -> dict[str, Any]:
    return views.project(project)
