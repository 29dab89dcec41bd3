"""A competition's targets and metrics (public data), at the paths crunch-cli 13.0.1 reads
them from: `competition.targets.list()/get(name)`, `target.metrics.list()/get(name)` and
`competition.metrics.list()`, which its organizer commands hand to scoring modules.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from crunch_cli.hub import lookups, metrics, views
from crunch_cli.hub.deps import SessionDep
from crunch_cli.hub.errors import not_found
from crunch_cli.hub.models import Competition

router = APIRouter()


@router.get("/v1/competitions/{competition}/targets")
def list_targets(
    competition: str, session: SessionDep, name: str | None = None, virtual: bool | None = None
) -> list[dict[str, Any]]:
    item = metrics.target(lookups.competition(session, competition))
    wanted = (name is None or name == item.name) and virtual is not True
    return [views.target(item)] if wanted else []


@router.get("/v1/competitions/{competition}/targets/{target}")
def get_target(competition: str, target: str, session: SessionDep) -> dict[str, Any]:
    return views.target(_target(lookups.competition(session, competition), target))


@router.get("/v1/competitions/{competition}/targets/{target}/metrics")
def list_target_metrics(competition: str, target: str, session: SessionDep) -> list[dict[str, Any]]:
    row = lookups.competition(session, competition)
    of = _target(row, target)
    return [views.metric(item, of) for item in metrics.metrics(session, row)]


@router.get("/v1/competitions/{competition}/targets/{target}/metrics/{metric}")
def get_metric(competition: str, target: str, metric: str, session: SessionDep) -> dict[str, Any]:
    row = lookups.competition(session, competition)
    of = _target(row, target)
    for item in metrics.metrics(session, row):
        if item.name == metric:
            return views.metric(item, of)
    raise not_found(
        "METRIC_NOT_FOUND",
        f"target {of.name!r} of competition {row.name!r} has no metric {metric!r}",
        metricName=metric,
    )


@router.get("/v1/competitions/{competition}/metrics")
def list_metrics(competition: str, session: SessionDep) -> list[dict[str, Any]]:
    row = lookups.competition(session, competition)
    of = metrics.target(row)
    return [views.metric(item, of) for item in metrics.metrics(session, row)]


def _target(row: Competition, name: str) -> metrics.Target:
    item = metrics.target(row)
    if item.name != name:
        raise not_found(
            "TARGET_NOT_FOUND",
            f"competition {row.name!r} has no target {name!r}",
            targetName=name,
        )
    return item
