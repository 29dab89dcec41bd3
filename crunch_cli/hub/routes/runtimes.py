"""Runtimes and the compute quota (see `runtimes`), at the paths crunch-cli 13.0.1 reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crunch_cli.hub import lookups, runtimes, submissions
from crunch_cli.hub.deps import OwnProjectDep, PageDep, SessionDep
from crunch_cli.hub.routes.submissions import PROJECT
from crunch_cli.hub.views import page

router = APIRouter()


@router.get("/v1/competitions/{competition}/runtime-definitions")
def list_runtime_definitions(
    competition: str, session: SessionDep, paging: PageDep
) -> dict[str, Any]:
    """Public, like the competition: `crunch runtime list` before the first push."""
    items = runtimes.definitions(lookups.competition(session, competition))
    return _page(items, paging.page, paging.size)


@router.get("/v3" + PROJECT + "/submissions/{selector}/runtime-options")
def list_runtime_options(
    selector: str, session: SessionDep, project: OwnProjectDep, paging: PageDep
) -> dict[str, Any]:
    submissions.find(session, project, selector)
    return _page(runtimes.options(project.competition), paging.page, paging.size)


@router.get("/v3" + PROJECT + "/quota/compute")
def compute_quota(session: SessionDep, project: OwnProjectDep) -> dict[str, Any]:
    return runtimes.compute_quota(session, project.competition, project)


def _page(items: list[dict[str, Any]], number: int, size: int) -> dict[str, Any]:
    return page(items[number * size : (number + 1) * size], number, size, len(items))
