"""Competition modules written for crunch-cli 13.0.1 load against our `crunch` package.

Each source below has the imports and calls of a real module of crunchdao/competitions
(runner, scoring, leaderboard, reward, submission), trimmed of pandas. They are executed the
way crunch-cli executes a module: a fresh module named after its file ("runner.py"), compiled
and run in its own namespace, never put in sys.modules.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from crunch_cli.protocol.contexts import RunnerExecutorContext, UserModule, call_function
from crunch_cli.protocol.types import (
    File,
    Metric,
    ParticipantVisibleError,
    PhaseType,
    RankableProject,
    RewardableProject,
    SubmissionType,
    Target,
    Unit,
    validate_ranking,
    validate_rewards,
    validate_scores,
)


def _execute(folder: Path, file_name: str, source: str) -> types.ModuleType:
    path = folder / file_name
    path.write_text(textwrap.dedent(source))
    module = types.ModuleType(file_name)
    module.__file__ = str(path)
    module.__path__ = [str(folder)]
    module.__package__ = file_name.rpartition(".")[0]
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


STREAM_RUNNER = """
import os
import typing

from crunch.container import GeneratorWrapper
from crunch.utils import smart_call

if typing.TYPE_CHECKING:
    from crunch.runner.unstructured import RunnerContext, RunnerExecutorContext, UserModule

# Outside TYPE_CHECKING too, to show the names resolve.
from crunch.runner.unstructured import RunnerContext, RunnerExecutorContext, UserModule


def run(context: "RunnerContext", prediction_directory_path: str):
    if context.force_first_train:
        context.execute(command="train")
    context.execute(command="infer", parameters={"determinism_check": False})


def execute(context: "RunnerExecutorContext", module: "UserModule", data_directory_path: str):
    default_values = {"data_directory_path": data_directory_path}

    def infer(determinism_check):
        datasets = [1, 2, 3]
        context.trip_data_fuse()
        infer_function = module.get_function("infer")
        wrapper = GeneratorWrapper(
            iter(datasets),
            lambda datasets: smart_call(infer_function, default_values, {"X_test": datasets}),
            post_processor=float,
        )
        values, _ = wrapper.collect(len(datasets))
        return values

    return {"infer": infer}
"""

REAL_TIME_RUNNER = """
from crunch.__version__ import __version__ as CRUNCH_VERSION
from crunch.runner.tracing import RunnerTracer, to_execute_span_attributes
from crunch.utils import smart_call


def run(context, tracer: "RunnerTracer", data_directory_path: str):
    if CRUNCH_VERSION < "11.7.0":
        raise RuntimeError(f"detected crunch-cli version {CRUNCH_VERSION}")
    attributes = to_execute_span_attributes(
        command="infer", parameters={"parallelism": 2}, span_attributes={"determinism_check": False}
    )
    with tracer.span("execute", attributes=attributes):
        return _worker(3)


def _worker(worker_index):
    from crunch import monkey_patches
    monkey_patches.SHOULD_PRINT_PREFIX_WHEN_POSSIBLE = f"worker:{worker_index}"
    return monkey_patches.SHOULD_PRINT_PREFIX_WHEN_POSSIBLE
"""

SCORING = """
import crunch
import crunch.unstructured
import crunch.unstructured.utils
import crunch.utils
from crunch.api import Metric, PhaseType, Target
from crunch.unstructured import ScoredMetric, ScoredMetricDetail
from crunch.unstructured.utils import delta_message, truncate
from crunch.utils import Tracer


class ParticipantVisibleError(Exception):
    pass


def check(prediction_directory_path: str, target_names, phase_type):
    tracer = crunch.utils.Tracer(printer=lambda line: None)
    with tracer.log("Check for missing samples"):
        message = crunch.unstructured.utils.delta_message([1, 2, 3], [2, 3, 4])
        if message:
            raise ParticipantVisibleError(f"{phase_type.name}: {message}")


def score(target_and_metrics, phase_type: crunch.api.PhaseType, chain_height: int):
    results = {}
    for target, metrics in Tracer(printer=lambda line: None).loop(
        target_and_metrics, lambda entry: f"target -> {entry[0].name}"
    ):
        for metric in metrics:
            detail = ScoredMetricDetail(key=truncate(["a"]), value=1.0, reduced=True)
            results[metric.id] = crunch.unstructured.ScoredMetric(
                value=0.5 if phase_type == crunch.api.PhaseType.SUBMISSION else 0.0,
                details=[detail],
            )
    return results
"""

LEADERBOARD = """
from crunch.api import Metric, Target
from crunch.unstructured import ComparedSimilarity, RankableProject, RankedProject, RankPass
from crunch.utils import Tracer


def rank(
    target: Target, metrics: list[Metric], projects: list[RankableProject], rank_pass: RankPass
):
    metric = metrics[0]
    ordered = sorted(projects, key=lambda project: -project.get_metric(metric.id).score)
    return [
        RankedProject(project.id, rank, rank if rank_pass == RankPass.FINAL else None)
        for rank, project in enumerate(ordered, 1)
    ]


def compare(targets, combinations):
    return [ComparedSimilarity(left, right, targets[0].id, 0.0) for left, right in combinations]
"""

REWARD = """
from crunch.api import Metric, Target
from crunch.unstructured import RewardableProject, RewardedProject
from crunch.utils import Tracer


def compute_bounties(projects: list[RewardableProject], granted_amount: float):
    share = granted_amount / len(projects)
    return [RewardedProject(project.id, share) for project in projects]
"""

SUBMISSION = """
import crunch.utils
from crunch.api import SubmissionType
from crunch.external import humanfriendly
from crunch.unstructured import File, ParticipantVisibleError
from crunch.unstructured.utils import find_file_by_path, find_requirement_by_name
from crunch.utils import Tracer

MAX_SIZE = 1000


def check(
    submission_type: SubmissionType,
    submission_files: list[File],
    model_files: list[File],
    python_requirements,
):
    if submission_type != SubmissionType.CODE:
        raise ParticipantVisibleError("only code")
    for file in model_files:
        if file.size > MAX_SIZE:
            max_size = humanfriendly.format_size(MAX_SIZE)
            size = humanfriendly.format_size(file.size)
            raise ParticipantVisibleError(f"{file.name} is {size}, more than {max_size}")
    if find_file_by_path(submission_files, "REQUIREMENTS.txt") is None:
        raise ParticipantVisibleError("no requirements.txt")
    if find_requirement_by_name(python_requirements, "Torch") is not None:
        raise ParticipantVisibleError("torch is not allowed")
"""


def test_a_stream_runner_module(tmp_path: Path) -> None:
    runner = _execute(tmp_path, "runner.py", STREAM_RUNNER)
    assert (runner.__name__, runner.__package__) == ("runner.py", "runner")
    assert "runner.py" not in sys.modules

    tripped: list[bool] = []

    class Context(RunnerExecutorContext):
        is_local = property(lambda self: True)

        def trip_data_fuse(self) -> None:
            tripped.append(True)

    user_code = types.ModuleType("user_code")
    exec(
        "def infer(X_test):\n    yield\n    for x in X_test:\n        yield x * 2\n",
        user_code.__dict__,
    )

    class Module(UserModule):
        module = property(lambda self: user_code)

    handlers = call_function(
        runner.execute, {"context": Context(), "module": Module(), "data_directory_path": "data"}
    )
    assert call_function(handlers["infer"], {"determinism_check": False}) == [2.0, 4.0, 6.0]
    assert tripped == [True]


def test_a_runner_module_that_traces_and_checks_the_version(tmp_path: Path) -> None:
    from crunch.runner.tracing import RunnerTracer

    runner = _execute(tmp_path, "runner.py", REAL_TIME_RUNNER)
    tracer = RunnerTracer()

    assert runner.run(None, tracer, "data") == "worker:3"
    (span,) = tracer.spans
    assert span.description == "execute"
    assert span.attributes == {
        "command": "infer",
        "parameters": {"parallelism": 2},
        "determinism_check": False,
    }

    import crunch.monkey_patches

    assert crunch.monkey_patches.SHOULD_PRINT_PREFIX_WHEN_POSSIBLE == "worker:3"
    crunch.monkey_patches.SHOULD_PRINT_PREFIX_WHEN_POSSIBLE = None


def _metrics() -> list[Metric]:
    target = Target(1, "y", "Y", False, True)
    metric = Metric(7, "mse", "MSE", Unit(None, 3, None), 1, True, 1.0)
    metric.target = target
    return [metric]


def test_a_scoring_module(tmp_path: Path) -> None:
    from crunch.unstructured.utils import group_metrics_by_target

    scoring = _execute(tmp_path, "scoring.py", SCORING)
    metrics = _metrics()
    offered: dict[str, Any] = {
        "phase_type": PhaseType.SUBMISSION,
        "chain_height": 1,
        "prediction_directory_path": "prediction",
        "data_directory_path": "data",
        "target_names": ["y"],
        "target_and_metrics": group_metrics_by_target(metrics),
    }

    with pytest.raises(ParticipantVisibleError, match=r"^SUBMISSION: missing \[1\] extras \[4\]$"):
        call_function(scoring.check, offered)

    scores = validate_scores(call_function(scoring.score, offered), metrics)
    assert {key: value.to_dict() for key, value in scores.items()} == {
        7: {"value": 0.5, "details": [{"key": "a", "value": 1.0, "reduced": True}]}
    }


def test_leaderboard_and_reward_modules(tmp_path: Path) -> None:
    from crunch.unstructured import RankPass

    leaderboard = _execute(tmp_path, "leaderboard.py", LEADERBOARD)
    reward = _execute(tmp_path, "reward.py", REWARD)
    metrics = _metrics()
    projects = [
        RankableProject.from_dict(
            {"id": id, "group": "g", "rewardable": True, "metrics": [{"id": 7, "score": score}]}
        )
        for id, score in [(1, 0.2), (2, 0.9)]
    ]

    ranked = call_function(
        leaderboard.rank,
        {
            "target": metrics[0].target,
            "metrics": metrics,
            "projects": projects,
            "rank_pass": RankPass.FINAL,
        },
    )
    assert [project.to_dict() for project in validate_ranking(ranked, projects)] == [
        {"id": 2, "rank": 1, "rewardRank": 1},
        {"id": 1, "rank": 2, "rewardRank": 2},
    ]
    similarities = call_function(
        leaderboard.compare, {"targets": [metrics[0].target], "combinations": [(1, 2)]}
    )
    assert [similarity.to_dict() for similarity in similarities] == [
        {"leftId": 1, "rightId": 2, "targetId": 1, "value": 0.0}
    ]

    rewardable = [RewardableProject(1, "g", True), RewardableProject(2, "g", True)]
    rewarded = call_function(
        reward.compute_bounties, {"projects": rewardable, "granted_amount": 100.0}
    )
    assert [project.amount for project in validate_rewards(rewarded, rewardable)] == [50.0, 50.0]


def test_a_submission_module(tmp_path: Path) -> None:
    submission = _execute(tmp_path, "submission.py", SUBMISSION)

    class Requirement:
        def __init__(self, name: str) -> None:
            self.name = name

    def check(model_size: int, requirements: list[str]) -> None:
        call_function(
            submission.check,
            {
                "submission_type": SubmissionType.CODE,
                "submission_files": [File("requirements.txt", None, 10)],
                "model_files": [File("resources/model.bin", None, model_size)],
            },
            lazy_kwargs={"python_requirements": lambda: [Requirement(n) for n in requirements]},
        )

    check(10, ["pandas"])
    with pytest.raises(ParticipantVisibleError, match=r"^model\.bin is 1\.5 KB, more than 1 KB$"):
        check(1500, ["pandas"])
    with pytest.raises(ParticipantVisibleError, match=r"^torch is not allowed$"):
        check(10, ["torch"])


def test_crunch_custom_does_not_exist(tmp_path: Path) -> None:
    # Modules still importing it fail to load with crunch-cli 13.0.1 too.
    with pytest.raises(ModuleNotFoundError, match=r"crunch\.custom"):
        _execute(tmp_path, "leaderboard.py", "import crunch\nimport crunch.custom\n")


def test_import_crunch_stays_light() -> None:
    code = (
        "import json, sys\n"
        "import crunch, crunch.utils, crunch.container, crunch.unstructured, crunch.api\n"
        "import crunch.unstructured.utils, crunch.runner.unstructured, crunch.runner.tracing\n"
        "import crunch.external.humanfriendly, crunch.monkey_patches, crunch.__version__\n"
        "heavy = ['pandas', 'numpy', 'requests', 'pyarrow', 'typer', 'crunch_cli.notebook']\n"
        "print(json.dumps([crunch.__version__.__version__, crunch.api.Target.__name__,\n"
        "    [name for name in heavy if name in sys.modules]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == ["13.0.1", "Target", []]


def test_load_notebook_is_the_notebook_api() -> None:
    import crunch
    from crunch_cli.notebook import load_notebook

    assert crunch.load_notebook is load_notebook
    with pytest.raises(AttributeError):
        _ = crunch.store  # type: ignore[attr-defined]
