"""The runtimes a run may ask for, and the compute quota, in the shapes crunch-cli 13.0.1
reads (`crunch runtime list`, `crunch run create --runtime`, `crunch quota`).

The hub runs every submission the same way: in its sandbox, on its own CPUs, under the
competition's time and memory limits. That is one runtime, `cpu`. A GPU runtime needs a
worker with a GPU, and the sandbox hands none to a run, so the hub offers none.

The hub keeps no compute budget beyond the time limit of one run: each new run gets the
whole limit. So `available` and `remaining` are that limit, a runtime option's `quota`
too, and `used` only reports how long the project's runs have run so far.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from crunch_cli.hub.errors import not_found
from crunch_cli.hub.models import Competition, Project, Run
from crunch_cli.hub.runs import ACTIVE, CREATED, duration

CPU = "cpu"
CPU_DEFINITION_ID = 1
MIB_PER_GIB = 1024


def definitions(competition: Competition) -> list[dict[str, Any]]:
    """Every runtime of the competition: the one CPU runtime its limits describe."""
    return [
        {
            "id": CPU_DEFINITION_ID,
            "name": CPU,
            "type": "CPU",
            "status": "ACTIVE",
            "displayName": "CPU",
            "description": (
                f"the hub's sandbox: {competition.run_time_limit_seconds} s and "
                f"{competition.run_memory_limit_mb} MiB per run"
            ),
            "poweredBy": {"text": "crunch hub", "url": ""},
            "specification": {
                # crunch-cli prints whole GB; ours: the exact limit beside it
                "memory": {
                    "size": competition.run_memory_limit_mb // MIB_PER_GIB,
                    "megabytes": competition.run_memory_limit_mb,
                },
                "cpu": {"coreCount": os.cpu_count() or 1},
                "gpu": {"count": None, "model": None, "driver": None},
            },
        }
    ]


def options(competition: Competition) -> list[dict[str, Any]]:
    """What a submission may run on: every runtime, available, with a run's full time."""
    return [
        {
            "definition": definition,
            "quota": competition.run_time_limit_seconds,
            "recommended": definition["name"] == CPU,
            "status": "AVAILABLE",
        }
        for definition in definitions(competition)
    ]


def require(competition: Competition, name: str | None) -> None:
    """Refuse a run asked for on a runtime the hub does not have; None means the default."""
    known = [definition["name"] for definition in definitions(competition)]
    if name is not None and name not in known:
        raise not_found(
            "RUNTIME_DEFINITION_NOT_FOUND",
            f"competition {competition.name!r} has no runtime {name!r}; "
            f"available: {', '.join(known)}",
            runtimeDefinitionName=name,
        )


def compute_quota(session: Session, competition: Competition, project: Project) -> dict[str, Any]:
    """Seconds, as crunch-cli reads a duration; see the module docstring for their meaning."""
    rows = session.scalars(
        select(Run)
        .where(Run.project_id == project.id)
        .options(load_only(Run.status, Run.started_at, Run.ended_at))
    ).all()
    used = sum(duration(row) or 0.0 for row in rows)
    limit = competition.run_time_limit_seconds
    return {
        "available": limit,
        "remaining": limit,
        "used": round(used, 3),
        "running": any(row.status in (CREATED, *ACTIVE) for row in rows),
    }
