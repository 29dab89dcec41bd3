"""Rows → wire JSON (camelCase, ISO-8601), with every field the public client requires
(HUB_API.md, "Fields the public client requires"). Fields marked "ours" are extras that
other clients ignore.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from crunch_cli.hub.models import Competition, Phase, Project, Round, User, utcnow

if TYPE_CHECKING:
    from crunch_cli.hub.metrics import Metric, Target

METRIC_DECIMALS = 6  # how many decimals a client shows of a score


def iso(value: datetime | None) -> str | None:
    """UTC without an offset, as the hosted hub writes it: the public client compares
    these to a naive UTC `now`, and an aware value would break that comparison.
    """
    return (
        None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    )


def page(content: Sequence[Any], page_number: int, page_size: int, total: int) -> dict[str, Any]:
    return {
        "content": list(content),
        "pageNumber": page_number,
        "pageSize": page_size,
        "totalElements": total,
        "totalPages": math.ceil(total / page_size) if page_size else 0,
    }


def competition(row: Competition) -> dict[str, Any]:
    first_round = row.rounds[0] if row.rounds else None
    now = utcnow()
    is_open = any(round_.start <= now < round_.end for round_ in row.rounds)
    return {
        "id": row.id,
        "name": row.name,
        "displayName": row.display_name,
        "shortDescription": row.short_description,
        "start": iso(first_round.start if first_round else row.created_at),
        "end": None,
        "status": "OPEN" if is_open else "CLOSED",
        "format": row.format,
        "mode": "OFFLINE",
        "splitKeyType": "INTEGER" if row.moon_column else "STRING",
        "external": False,
        "documentationUrl": None,
        "notebookUrl": None,
        "hostedByName": "crunch hub",
        "prizePoolShortText": "",
        "teamBased": False,
        "onlyTeamLeader": False,
        "maxTeamSize": 1,
        "projectCreationLimit": 100,
        "encryptSubmissions": False,
        "phalaKeyUrl": None,
        "hideTrainFrequency": False,
        "hideForceFirstTrain": False,
        # ours
        "metric": row.metric,
        "limits": limits(row),
    }


def limits(row: Competition) -> dict[str, int]:
    return {
        "runTimeLimitSeconds": row.run_time_limit_seconds,
        "runMemoryLimitMb": row.run_memory_limit_mb,
        "maxCodeSize": row.max_code_size,
        "maxModelSize": row.max_model_size,
        "submissionsPerDay": row.submissions_per_day,
    }


def round_(row: Round) -> dict[str, Any]:
    return {"id": row.id, "number": row.number, "start": iso(row.start), "end": iso(row.end)}


def phase(row: Phase) -> dict[str, Any]:
    return {"id": row.id, "type": row.type, "start": iso(row.start), "end": iso(row.end)}


def user(row: User) -> dict[str, Any]:
    return {"id": row.id, "login": row.login}


def project(row: Project) -> dict[str, Any]:
    return {
        "id": row.id,
        "userId": row.user_id,
        "name": row.name,
        "createdAt": iso(row.created_at),
        "competitionId": row.competition_id,
    }


def target(item: Target) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "displayName": item.name,
        "virtual": False,
        "primary": True,
    }


def metric(item: Metric, of: Target) -> dict[str, Any]:
    """`score` marks the metric that ranks the leaderboard; `target` is the parent that
    crunch-cli's `competition.metrics.list()` reads each metric's target from.
    """
    return {
        "id": item.id,
        "name": item.name,
        "displayName": item.name,
        "unit": {"prefix": None, "scale": METRIC_DECIMALS, "suffix": None},
        "weight": 1,
        "score": item.ranks,
        "multiplier": 1.0,
        "target": target(of),
        # ours
        "higherIsBetter": item.higher_is_better,
    }
