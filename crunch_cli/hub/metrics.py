"""A competition's targets and metrics, in the shape crunch-cli's scoring modules receive
them (`crunch.api.Target`, `crunch.api.Metric`).

Every competition has one target, named by `Competition.target_column` and numbered like
the competition. A competition that ships its own modules has the metrics it was created
with (`CompetitionMetric`, the first ranks); a built-in format has its one metric,
`Competition.metric`, numbered like the competition too.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from crunch_cli.hub.models import Competition, CompetitionMetric
from crunch_cli.runner.scoring import LOWER_IS_BETTER


@dataclasses.dataclass(frozen=True)
class Target:
    id: int
    name: str


@dataclasses.dataclass(frozen=True)
class Metric:
    id: int
    name: str
    ranks: bool
    higher_is_better: bool


def higher_is_better(metric: str) -> bool:
    """The built-in metrics' direction (a module competition's metrics say their own)."""
    return metric.lower() not in LOWER_IS_BETTER


def ranking(session: Session, row: Competition) -> Metric:
    """The metric that ranks the leaderboard."""
    return metrics(session, row)[0]


def target(row: Competition) -> Target:
    return Target(row.id, row.target_column)


def metrics(session: Session, row: Competition) -> list[Metric]:
    """The competition's metrics, the one that ranks the leaderboard first."""
    stored = session.scalars(
        select(CompetitionMetric)
        .where(CompetitionMetric.competition_id == row.id)
        .order_by(CompetitionMetric.position)
    ).all()
    if not stored:
        return [
            Metric(row.id, row.metric, ranks=True, higher_is_better=higher_is_better(row.metric))
        ]
    return [
        Metric(
            item.id, item.name, ranks=item.position == 0, higher_is_better=not item.lower_is_better
        )
        for item in stored
    ]
