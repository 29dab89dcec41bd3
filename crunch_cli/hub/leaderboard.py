"""The leaderboard: each project's best scored run, ranked by the competition's metric.

Ties go to the run scored first, both inside a project (which of its runs counts) and
between projects (who ranks higher): whoever got there first keeps the place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crunch_cli.hub.metrics import ranking
from crunch_cli.hub.models import Competition, Project, Run, Submission
from crunch_cli.hub.runs import COMPLETED, duration
from crunch_cli.hub.views import iso


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
            for rank, row in enumerate(best_runs(session, competition), start=1)
        ],
    }
