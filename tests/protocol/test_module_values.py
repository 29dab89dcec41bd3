"""The values organizers build and receive, and the checks on what their functions return.

Constructors, reprs and JSON shapes below were observed from crunch-cli 13.0.1 on the same
calls (its classes convert with camelCase keys and coerce JSON numbers to declared types).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crunch.api import Metric, PhaseType, SubmissionType, Target, Unit
from crunch.unstructured import (
    ComparedSimilarity,
    File,
    RankableProject,
    RankedProject,
    RankPass,
    RewardableProject,
    RewardedProject,
    ScoredMetric,
    ScoredMetricDetail,
)
from crunch.unstructured.utils import group_metrics_by_target
from crunch_cli.protocol.types import (
    InvalidResultError,
    validate_ranking,
    validate_rewards,
    validate_scores,
)


def _metric(id: int, target: Target) -> Metric:
    metric = Metric(id, f"m{id}", f"M{id}", Unit(None, 2, "%"), 1, True, 1.0)
    metric.target = target
    return metric


TARGET = Target(1, "t", "T", False, True)


# --- scoring ---------------------------------------------------------------------------------


def test_a_scoring_module_returns_scored_metrics_keyed_by_metric_id() -> None:
    metrics = [_metric(1, TARGET), _metric(2, TARGET)]
    results = {1: ScoredMetric(0.5, [ScoredMetricDetail("region-1", 0.4, True)])}

    # Metrics may be left out.
    assert validate_scores(results, metrics) is results


def test_numpy_like_float_subclasses_are_floats() -> None:
    class Float64(float):
        pass

    validate_scores({1: ScoredMetric(Float64(0.5))}, [_metric(1, TARGET)])


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ([ScoredMetric(0.5)], "must return a dict of metric id to ScoredMetric, not list"),
        ({3: ScoredMetric(0.5)}, "metric id 3, which is not a metric of the competition"),
        ({1: 0.5}, "returned float for metric 1, not a ScoredMetric"),
        ({1: ScoredMetric(None)}, "a value of type None for metric 1, not a float"),
        ({1: ScoredMetric(1)}, "a value of type int for metric 1, not a float"),  # type: ignore[arg-type]
    ],
)
def test_what_score_may_not_return(results: object, message: str) -> None:
    with pytest.raises(InvalidResultError, match=message):
        validate_scores(results, [_metric(1, TARGET), _metric(2, TARGET)])
    assert issubclass(InvalidResultError, ValueError)  # 13.0.1 raises ValueError


def test_scored_metrics_as_json() -> None:
    scored = ScoredMetric(0.5, [ScoredMetricDetail("a", 1.0, True)])
    assert scored.to_dict() == {
        "value": 0.5,
        "details": [{"key": "a", "value": 1.0, "reduced": True}],
    }
    assert ScoredMetric(None).to_dict() == {"value": None, "details": []}
    assert ScoredMetric.from_dict({"value": 1}) == ScoredMetric(1.0, [])
    assert ScoredMetricDetail.from_dict({"key": 3, "value": 1, "reduced": True}) == (
        ScoredMetricDetail(3, 1.0, True)
    )
    assert ScoredMetricDetail.from_dict({"key": "3", "value": "1.5", "reduced": 1}) == (
        ScoredMetricDetail("3", 1.5, True)
    )


def test_targets_and_metrics() -> None:
    unit = Unit(None, 2, "%")
    metric = Metric(1, "mse", "MSE", unit, 1, True, 1.0)

    assert repr(metric) == (
        "Metric(id=1, name='mse', display_name='MSE', unit=Unit(prefix=None, scale=2, "
        "suffix='%'), weight=1, score=True, multiplier=1.0)"
    )
    assert metric.to_dict() == {
        "id": 1,
        "name": "mse",
        "displayName": "MSE",
        "unit": {"prefix": None, "scale": 2, "suffix": "%"},
        "weight": 1,
        "score": True,
        "multiplier": 1.0,
    }
    assert Metric.from_dict(metric.to_dict()) == metric
    with pytest.raises(AttributeError, match=r"^Metric\.target is not set$"):
        _ = metric.target

    metric.target = TARGET
    assert metric.target is TARGET
    # The link is not part of the value: not compared, not printed, not sent.
    assert metric == Metric(1, "mse", "MSE", unit, 1, True, 1.0)
    assert "target" not in metric.to_dict()

    assert TARGET.to_dict() == {
        "id": 1,
        "name": "t",
        "displayName": "T",
        "virtual": False,
        "primary": True,
    }
    assert unit.format_value(12.3456) == "12.35%"
    assert Unit("$", 0, None).format_value(12.7) == "$12"


def test_target_and_metrics_are_grouped_by_target_id() -> None:
    first = Target(0, "a", "A", True, False)
    m1, m2, m3 = _metric(1, TARGET), _metric(2, first), _metric(3, TARGET)

    assert group_metrics_by_target([m1, m2, m3]) == [(first, [m2]), (TARGET, [m1, m3])]


def test_phase_and_submission_types() -> None:
    assert PhaseType.SUBMISSION.first_chain_height() == 1
    assert PhaseType.OUT_OF_SAMPLE.first_chain_height() == 2
    assert PhaseType.OUT_OF_SAMPLE.slug() == "out-of-sample"
    assert PhaseType.OUT_OF_SAMPLE.pretty() == "Out-of-Sample"
    assert PhaseType.SUBMISSION.pretty() == "Submission"
    assert repr(PhaseType.SUBMISSION) == "SUBMISSION"
    assert str(PhaseType.SUBMISSION) == "PhaseType.SUBMISSION"
    assert list(SubmissionType) == [
        SubmissionType.CODE,
        SubmissionType.NOTEBOOK,
        SubmissionType.PREDICTION,
    ]
    # A phase type this version does not know is read, not refused.
    future = PhaseType("LIVE")
    assert (future.name, future.value) == ("LIVE", "LIVE")
    assert PhaseType("LIVE") is future
    assert future not in list(PhaseType)


# --- leaderboard and reward ------------------------------------------------------------------


def _projects() -> list[RankableProject]:
    return [RankableProject(1, "g", True), RankableProject(2, "g", False)]


def test_rankable_projects_from_the_hub() -> None:
    project = RankableProject.from_dict(
        {
            "id": 1,
            "group": "g",
            "rewardable": True,
            "metrics": [{"id": 3, "score": 1}],
            "newerField": "ignored",
        }
    )
    # 13.0.1 reads the id as declared (float | None) and the score as a float.
    assert repr(project) == (
        "RankableProject(id=1.0, group='g', rewardable=True, "
        "metrics=[RankableProjectMetric(id=3, score=1.0)])"
    )
    metric = project.get_metric(3)
    assert metric is not None and metric.score == 1.0
    assert project.get_metric(4) is None
    assert RankableProject.from_dict({"id": None, "group": "g", "rewardable": True}).metrics == []


def test_ranking_results() -> None:
    ranked = [RankedProject(2, 1, 1.0), RankedProject(1, 2, None)]
    assert validate_ranking(ranked, _projects()) is ranked
    assert RankedProject(1, 2, 3.0).to_dict() == {"id": 1, "rank": 2, "rewardRank": 3.0}
    assert RankedProject.from_dict({"id": 1.7, "rank": "2", "rewardRank": 1}) == (
        RankedProject(1, 2, 1)
    )
    assert ComparedSimilarity(1, 2, 3, 0.5).to_dict() == {
        "leftId": 1,
        "rightId": 2,
        "targetId": 3,
        "value": 0.5,
    }
    assert [rank_pass.value for rank_pass in RankPass] == ["PRE_DUPLICATE", "FINAL"]


@pytest.mark.parametrize(
    ("ranked", "message"),
    [
        ([1, 2], r"rank\(\) returned int in its list, not a RankedProject"),
        ({}, r"rank\(\) must return a list of RankedProject, not dict"),
        ([RankedProject(1, 1, 1), RankedProject(1, 2, 2)], r"rank\(\) listed a project twice"),
        ([RankedProject(1, 1, 1)], r"missing \[2\], unknown \[\]"),
        ([RankedProject(1, 1, 1), RankedProject(2, 1, 1)], "same rank to two projects"),
    ],
)
def test_what_rank_may_not_return(ranked: object, message: str) -> None:
    with pytest.raises(InvalidResultError, match=message):
        validate_ranking(ranked, _projects())


def test_reward_results() -> None:
    projects = [RewardableProject(1, "g", True), RewardableProject(2, "g", True)]
    rewarded = [RewardedProject(1, 5), RewardedProject(2, 0.0)]
    assert validate_rewards(rewarded, projects) is rewarded
    assert RewardedProject(1, 5).to_dict() == {"id": 1, "amount": 5}

    with pytest.raises(InvalidResultError, match=r"missing \[2\], unknown \[3\]"):
        validate_rewards([RewardedProject(1, 5), RewardedProject(3, 1)], projects)


# --- submission ------------------------------------------------------------------------------


def test_files_of_a_submission(tmp_path: Path) -> None:
    file = File("a/b/c.txt", None, 1)
    assert (file.name, file.directory) == ("c.txt", "a/b")
    assert File("c.txt", None, 1).directory == ""
    assert file.text is None
    assert file.to_dict() == {"path": "a/b/c.txt", "uri": None, "size": 1}

    (tmp_path / "requirements.txt").write_text("pandas\n")
    (tmp_path / "model.bin").write_bytes(b"\0" * 5)
    requirements = File.from_local(str(tmp_path / "requirements.txt"), "requirements.txt")
    model = File.from_local(str(tmp_path / "model.bin"), "resources/model.bin")

    assert requirements.text == "pandas\n"
    assert requirements.size == 7
    # Only text files are readable by the organizer's check.
    assert model == File("resources/model.bin", None, 5)
    assert model.text is None
