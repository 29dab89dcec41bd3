"""The leaderboard: each project's best scored run, ranked by the competition's metric.

Inside a project, a tie goes to the run scored first. Between projects, equal scores share
a rank (1, 2, 2, 4), listed in the order they were scored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crunch_cli.hub.metrics import ranking, target
from crunch_cli.hub.models import Competition, Project, Run, Submission, User
from crunch_cli.hub.runs import COMPLETED, duration
from crunch_cli.hub.views import METRIC_DECIMALS, iso

# One leaderboard per competition; crunch-cli reads it by `@default`, then by its name.
NAME = "default"
RANK_UNIT = {"prefix": None, "scale": 0, "suffix": None}
METRIC_UNIT = {"prefix": None, "scale": METRIC_DECIMALS, "suffix": None}


def best_runs(session: Session, competition: Competition) -> list[Run]:
    """One run per project, best first."""
    rows = session.scalars(
        select(Run)
        .join(Project, Run.project_id == Project.id)
        .where(
            Project.competition_id == competition.id,
            Run.status == COMPLETED,
            Run.success.is_(True),
            Run.score.is_not(None),
            Run.metric == competition.metric,
        )
        .options(
            joinedload(Run.project).joinedload(Project.user),
            joinedload(Run.submission).load_only(Submission.number),
        )
    )
    sign = -1.0 if ranking(session, competition).higher_is_better else 1.0

    def order(row: Run) -> tuple[float, Any, int]:
        assert row.score is not None
        return (sign * row.score, row.ended_at, row.id)

    best: dict[int, Run] = {}
    for row in sorted(rows, key=order):
        best.setdefault(row.project_id, row)
    return sorted(best.values(), key=order)


def view(session: Session, competition: Competition) -> dict[str, Any]:
    return {
        "id": competition.id,
        "name": NAME,
        "displayName": f"{competition.display_name} leaderboard",
        "default": True,
        # ours
        "competitionName": competition.name,
        "metric": competition.metric,
        "higherIsBetter": ranking(session, competition).higher_is_better,
        "entries": [
            {
                "rank": rank,
                "userId": row.project.user_id,
                "userLogin": row.project.user.login,
                "projectName": row.project.name,
                "score": row.score,
                "submissionNumber": row.submission.number,
                "runId": row.id,
                "duration": duration(row),
                "scoredAt": iso(row.ended_at),
            }
            for rank, row in ranked(best_runs(session, competition))
        ],
    }


def ranked(rows: list[Run]) -> list[tuple[int, Run]]:
    """Each best run with its rank, equal scores sharing the first one's."""
    result: list[tuple[int, Run]] = []
    for position, row in enumerate(rows, start=1):
        tied = result and result[-1][1].score == row.score
        result.append((result[-1][0] if tied else position, row))
    return result


def changes(
    session: Session, competition: Competition, user: User, project: Project | None
) -> dict[str, Any]:
    """Where the user's project (its best ranked one when `project` is None) stands, in
    crunch-cli 13's "changes" shape: one target, its rank and its run's metrics. The hub
    keeps no history of ranks, so `previous` and `change` are always null; `targets` is
    empty when the project has no scored run.
    """
    projects = [project] if project is not None else user_projects(session, competition, user)
    entries = best_runs(session, competition)
    found = next(
        (
            (rank, row)
            for rank, row in ranked(entries)
            if any(row.project_id == item.id for item in projects)
        ),
        None,
    )
    submitted = any(
        session.scalar(select(Submission.id).where(Submission.project_id == item.id).limit(1))
        for item in projects
    )
    if found is None:
        return {"submitted": submitted, "targets": []}
    rank, row = found
    scores = {item.name: item.value for item in row.metrics} or {row.metric: row.score}
    of = target(competition)
    return {
        "submitted": submitted,
        "targets": [
            {
                "id": of.id,
                "name": of.name,
                "displayName": of.name,
                "rank": _change(RANK_UNIT, rank),
                "rewardRank": _change(RANK_UNIT, rank),
                "mean": _change(METRIC_UNIT, row.score),
                "metrics": {name: _change(METRIC_UNIT, value) for name, value in scores.items()},
            }
        ],
    }


def user_projects(session: Session, competition: Competition, user: User) -> list[Project]:
    return list(
        session.scalars(
            select(Project).where(
                Project.competition_id == competition.id, Project.user_id == user.id
            )
        )
    )


def _change(unit: dict[str, Any], current: float | None) -> dict[str, Any]:
    return {
        "unit": unit,
        "current": current,
        "previous": None,
        "change": None,
        "changeDirection": None,
    }
