"""`crunch.unstructured`: the values exchanged with scoring, leaderboard, reward and
submission modules."""

from __future__ import annotations

import crunch.unstructured.utils as utils
from crunch_cli.protocol.types import (
    ComparedSimilarity,
    File,
    ParticipantVisibleError,
    RankableProject,
    RankableProjectMetric,
    RankedProject,
    RankPass,
    RewardableProject,
    RewardedProject,
    ScoredMetric,
    ScoredMetricDetail,
)

__all__ = [
    "ComparedSimilarity",
    "File",
    "ParticipantVisibleError",
    "RankPass",
    "RankableProject",
    "RankableProjectMetric",
    "RankedProject",
    "RewardableProject",
    "RewardedProject",
    "ScoredMetric",
    "ScoredMetricDetail",
    "utils",
]
