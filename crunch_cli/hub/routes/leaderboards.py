"""The competition's leaderboard, public like on the hosted hub, and where one user's
project stands on it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from crunch_cli.hub import leaderboard, lookups
from crunch_cli.hub.deps import ProjectDep, SessionDep
from crunch_cli.hub.errors import not_found
from crunch_cli.hub.models import Competition, Project, User

router = APIRouter()


@router.get("/v2/competitions/{competition}/leaderboards/@default")
def default_leaderboard(competition: str, session: SessionDep) -> dict[str, Any]:
    return leaderboard.view(session, lookups.competition(session, competition))


@router.get("/v3/competitions/{competition}/leaderboards/{name}/changes/users/{user_selector}")
def leaderboard_changes(
    competition: str,
    name: str,
    user_selector: str,
    session: SessionDep,
    caller: ProjectDep,
    project_name: Annotated[str | None, Query(alias="projectIdentifier")] = None,
) -> dict[str, Any]:
    """`crunch leaderboard` of crunch-cli 13: the leaderboard by `@default` or its name."""
    row = lookups.competition(session, competition)
    if name not in ("@default", leaderboard.NAME):
        raise not_found(
            "LEADERBOARD_NOT_FOUND",
            f"competition {row.name!r} has one leaderboard, {leaderboard.NAME!r}",
            leaderboardName=name,
        )
    user = lookups.user(session, user_selector, caller.user)
    return leaderboard.changes(session, row, user, _project(session, row, user, project_name))


def _project(session: Session, row: Competition, user: User, name: str | None) -> Project | None:
    if name is None:
        return None
    found = lookups.project_named(session, row, user.id, name)
    if found is None:
        raise not_found(
            "PROJECT_NOT_FOUND",
            f"no project {name!r} in competition {row.name!r}",
            competitionId=row.id,
            userId=user.id,
        )
    return found
