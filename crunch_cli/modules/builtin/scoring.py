"""The scoring of the built-in formats: the format's checks, then its one metric, on the
predictions file against the reference the caller gives (`crunch_run.judging`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crunch_cli.protocol.types import ParticipantVisibleError, ScoredMetric, ScoredMetricDetail

if TYPE_CHECKING:
    from crunch_cli.modules.builtin import CrunchRun
    from crunch_cli.protocol.types import Metric, Target

MAX_FAILURE_LINES = 20


def check(crunch_run: CrunchRun) -> None:
    failures, _score = crunch_run.judge()
    if not failures:
        return
    for failure in failures[:MAX_FAILURE_LINES]:
        crunch_run.events.note(f"check failed: {failure}")
    raise ParticipantVisibleError(
        f"the predictions failed {len(failures)} check(s); first: {failures[0]}"
    )


def score(
    target_and_metrics: list[tuple[Target, list[Metric]]], crunch_run: CrunchRun
) -> dict[int, ScoredMetric]:
    """The format's metric, with its value on each moon; nothing without targets."""
    _failures, scored = crunch_run.judge()
    if scored is None:
        return {}
    if scored.value is None:
        raise ParticipantVisibleError(f"the predictions cannot be scored: {scored.error}")
    details = [
        ScoredMetricDetail(moon, value, reduced=True) for moon, value in crunch_run.score_by_moon()
    ]
    # A built-in format has one metric, whatever the organizer named it.
    return {
        metric.id: ScoredMetric(scored.value, details)
        for _target, metrics in target_and_metrics
        for metric in metrics
    }
