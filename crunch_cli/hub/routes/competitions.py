"""Competitions, their rounds and phases, and their prediction checks (public data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from crunch_cli.hub import lookups, views
from crunch_cli.hub.deps import PageDep, SessionDep
from crunch_cli.hub.models import Competition

router = APIRouter()


@router.get("/v2/competitions")
def list_competitions(
    session: SessionDep,
    paging: PageDep,
    status: str | None = None,
    format: str | None = None,
) -> dict[str, Any]:
    query = select(Competition).order_by(Competition.id)
    if format:
        query = query.where(Competition.format == format.upper())
    rows = [views.competition(row) for row in session.scalars(query)]
    if status:
        rows = [row for row in rows if row["status"] == status.upper()]
    start = paging.page * paging.size
    return views.page(rows[start : start + paging.size], paging.page, paging.size, len(rows))


@router.get("/v1/competitions/{competition}")
def get_competition(competition: str, session: SessionDep) -> dict[str, Any]:
    return views.competition(lookups.competition(session, competition))


@router.get("/v1/competitions/{competition}/rounds")
def list_rounds(competition: str, session: SessionDep) -> list[dict[str, Any]]:
    return [views.round_(row) for row in lookups.competition(session, competition).rounds]


@router.get("/v1/competitions/{competition}/rounds/{round_selector}")
def get_round(competition: str, round_selector: str, session: SessionDep) -> dict[str, Any]:
    row = lookups.competition(session, competition)
    return views.round_(lookups.round_(row, round_selector))


@router.get("/v2/competitions/{competition}/rounds/{round_selector}/phases")
def list_phases(competition: str, round_selector: str, session: SessionDep) -> list[dict[str, Any]]:
    row = lookups.round_(lookups.competition(session, competition), round_selector)
    return [views.phase(phase) for phase in row.phases]


@router.get("/v2/competitions/{competition}/rounds/{round_selector}/phases/{phase_selector}")
def get_phase(
    competition: str, round_selector: str, phase_selector: str, session: SessionDep
) -> dict[str, Any]:
    row = lookups.round_(lookups.competition(session, competition), round_selector)
    return views.phase(lookups.phase(row, phase_selector))


@router.get("/v1/competitions/{competition}/checks")
def list_checks(competition: str, session: SessionDep) -> list[dict[str, Any]]:
    return [
        {
            "function": check.function,
            "scope": check.scope,
            "order": check.order,
            "parameters": check.parameters,
        }
        for check in lookups.competition(session, competition).checks
    ]
