"""The competition's leaderboard, public like on the hosted hub."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crunch_cli.hub import leaderboard, lookups
from crunch_cli.hub.deps import SessionDep

router = APIRouter()


@router.get("/v2/competitions/{competition}/leaderboards/@default")
def default_leaderboard(competition: str, session: SessionDep) -> dict[str, Any]:
    return leaderboard.view(session, lookups.competition(session, competition))
