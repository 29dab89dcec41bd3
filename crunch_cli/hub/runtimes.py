"""The runtimes a run may ask for, and the compute quota, in the shapes crunch-cli 13.0.1
reads (`crunch runtime list`, `crunch run create --runtime`, `crunch quota`).

Every run executes the same way: in the sandbox, under the competition's time and memory
limits. A competition offers the `cpu` runtime, the `gpu` one, or both (`crunch hub
competition create/limits --runtimes cpu,gpu`). A `gpu` run executes where a GPU is (the
hub's own machine with `--executor local`, a Ray worker with a GPU with `--executor ray`)
and gets one GPU, passed through the sandbox; a `cpu` run never sees a GPU. A run for a
runtime no worker can serve waits in the queue, saying why, and fails after the
competition's queue timeout.

The hub keeps no compute budget beyond the time limit of one run: each new run gets the
whole limit. So `available` and `remaining` are that limit, a runtime option's `quota`
too, and `used` only reports how long the project's runs have run so far.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, load_only

from crunch_cli.errors import CrunchError
from crunch_cli.hub.errors import not_found
from crunch_cli.hub.execution.job import CPU, GPU, RUNTIMES
from crunch_cli.hub.models import Competition, Project, Run
from crunch_cli.hub.runs import ACTIVE, CREATED, default_runtime, duration

DEFINITION_IDS = {CPU: 1, GPU: 2}
MIB_PER_GIB = 1024


def parse(value: str) -> tuple[str, ...]:
    """`cpu,gpu` → ("cpu", "gpu"): known names, each once, at least one."""
    names = tuple(dict.fromkeys(name.strip().lower() for name in value.split(",") if name.strip()))
    unknown = [name for name in names if name not in RUNTIMES]
    if unknown or not names:
        raise CrunchError(
            f"unknown runtime {', '.join(unknown)}" if unknown else "no runtime given",
            hint=f"pass --runtimes with one or more of {', '.join(RUNTIMES)}, e.g. cpu,gpu",
        )
    return names


def offered(competition: Competition) -> list[str]:
    return [name for name in RUNTIMES if name in (competition.runtimes or [CPU])]


def definitions(competition: Competition) -> list[dict[str, Any]]:
    """Every runtime of the competition, as its limits describe them."""
    return [_definition(competition, name) for name in offered(competition)]


def _definition(competition: Competition, name: str) -> dict[str, Any]:
    gpu = name == GPU
    return {
        "id": DEFINITION_IDS[name],
        "name": name,
        "type": name.upper(),
        "status": "ACTIVE",
        "displayName": name.upper(),
        "description": (
            f"the hub's sandbox{' with one GPU' if gpu else ''}: "
            f"{competition.run_time_limit_seconds} s and "
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
            "gpu": {"count": 1 if gpu else None, "model": None, "driver": None},
        },
    }


def options(competition: Competition) -> list[dict[str, Any]]:
    """What a submission may run on: every runtime, available, with a run's full time."""
    return [
        {
            "definition": definition,
            "quota": competition.run_time_limit_seconds,
            "recommended": definition["name"] == default_runtime(competition),
            "status": "AVAILABLE",
        }
        for definition in definitions(competition)
    ]


def require(competition: Competition, name: str | None) -> None:
    """Refuse a run asked for on a runtime the hub does not have; None means the default."""
    known = offered(competition)
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
