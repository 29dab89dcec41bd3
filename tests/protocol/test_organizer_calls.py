"""How organizer functions are called, and what the runner contexts give a runner module."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from datetime import datetime, timedelta
from typing import Any, Literal

import pytest

from crunch.runner.unstructured import RunnerContext, RunnerExecutorContext, UserModule
from crunch.unstructured import ParticipantVisibleError
from crunch_cli.protocol.contexts import DEFAULT_LOG_LIMITS, call_function

# --- call_function ---------------------------------------------------------------------------


def test_an_organizers_own_participant_visible_error_becomes_ours() -> None:
    # Organizers define the class in their module; only its name matters.
    class ParticipantVisibleError(Exception):
        pass

    def check(prediction_directory_path: str) -> None:
        raise ParticipantVisibleError(f"no prediction in {prediction_directory_path}")

    with pytest.raises(Exception) as caught:
        call_function(check, {"prediction_directory_path": "prediction"})

    error = caught.value
    assert type(error) is _ours()
    assert str(error) == "no prediction in prediction"
    assert type(error.__cause__) is ParticipantVisibleError


def _ours() -> type[Exception]:
    return ParticipantVisibleError


def test_other_exceptions_pass_through_unchanged() -> None:
    def score() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError) as caught:
        call_function(score, {})
    assert caught.value.__cause__ is None


def test_lazy_arguments_are_computed_only_when_declared() -> None:
    computed: list[str] = []

    def check(submission_files: list[str], python_requirements: str) -> tuple[Any, ...]:
        return submission_files, python_requirements

    result = call_function(
        check,
        {"submission_files": ["main.py"]},
        lazy_kwargs={
            "python_requirements": lambda: computed.append("python") or "pandas",
            "r_requirements": lambda: computed.append("r"),
        },
    )
    assert result == (["main.py"], "pandas")
    assert computed == ["python"]


def test_call_function_announces_the_call_when_given_a_printer() -> None:
    printed: list[str] = []

    def rank() -> int:
        return 1

    assert call_function(rank, print=printed.append) == 1
    assert printed == [f"\n\ncalling {rank}\n"]


# --- the contexts ----------------------------------------------------------------------------


class _Context(RunnerContext):
    """The smallest complete context: what the local test and the hub each implement."""

    def __init__(self, *, timeout: timedelta | None, phase_submission: bool, height: int) -> None:
        self._timeout = timeout
        self._phase_submission = phase_submission
        self._height = height
        self._started_at = datetime.now() - timedelta(minutes=10)
        self.executed: list[tuple[str, dict[str, Any] | None]] = []

    started_at = property(lambda self: self._started_at)
    timeout = property(lambda self: self._timeout)
    train_frequency = property(lambda self: 1)
    force_first_train = property(lambda self: True)
    is_local = property(lambda self: True)
    is_submission_phase = property(lambda self: self._phase_submission)
    chain_height = property(lambda self: self._height)
    has_model = property(lambda self: False)
    is_determinism_check_enabled = property(lambda self: True)

    def report_determinism(self, deterministic: bool) -> None:
        pass

    def log(self, message: str, *, important: bool = False, error: bool = False) -> Literal[True]:
        return True

    def execute(
        self,
        *,
        command: str,
        parameters: dict[str, Any] | None = None,
        trace: bool = True,
        span_hidden_parameters: list[str] | None = None,
        span_attributes: dict[str, Any] | None = None,
        install_data_fuse: bool = True,
        log_limits: tuple[int, int] = DEFAULT_LOG_LIMITS,
    ) -> None:
        self.executed.append((command, parameters))


def test_the_context_members_a_runner_implementation_must_provide() -> None:
    assert RunnerContext.__abstractmethods__ == {
        "started_at",
        "timeout",
        "train_frequency",
        "force_first_train",
        "is_local",
        "is_submission_phase",
        "chain_height",
        "has_model",
        "is_determinism_check_enabled",
        "report_determinism",
        "log",
        "execute",
    }
    assert RunnerExecutorContext.__abstractmethods__ == {"is_local", "trip_data_fuse"}
    assert UserModule.__abstractmethods__ == {"module"}
    assert DEFAULT_LOG_LIMITS == (1000, 500)


def test_remaining_duration_and_first_time() -> None:
    unlimited = _Context(timeout=None, phase_submission=True, height=1)
    assert unlimited.remaining_duration_before_timeout is None
    assert unlimited.is_first_time

    limited = _Context(timeout=timedelta(hours=1), phase_submission=False, height=2)
    remaining = limited.remaining_duration_before_timeout
    assert remaining is not None
    assert timedelta(minutes=49) < remaining <= timedelta(minutes=50)
    # Out of sample: the first run is chain height 2 (the submission run was 1).
    assert limited.is_first_time
    assert not _Context(timeout=None, phase_submission=False, height=3).is_first_time


class _Module(UserModule):
    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    @property
    def module(self) -> types.ModuleType:
        return self._module


def test_user_module_functions_and_values() -> None:
    code = types.ModuleType("user_code")
    code.train = lambda: "trained"  # type: ignore[attr-defined]
    code.THRESHOLD = 0.5  # type: ignore[attr-defined]
    user = _Module(code)

    assert user.get_function("train")() == "trained"
    with pytest.raises(ValueError, match=r"^no `infer` function found$"):
        user.get_function("infer")
    with pytest.raises(ValueError, match=r"^no `THRESHOLD` function found$"):
        user.get_function("THRESHOLD")

    assert user.get_value("THRESHOLD") == 0.5
    assert user.get_value("MISSING", default=None) is None
    with pytest.raises(ValueError, match=r"^no `MISSING` value found$"):
        user.get_value("MISSING")


@pytest.mark.parametrize(
    ("value", "inside"), [(None, False), ("true", True), ("TRUE", True), ("1", False)]
)
def test_is_inside_runner_reads_the_environment(value: str | None, inside: bool) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "CRUNCH_INSIDE_RUNNER"}
    if value is not None:
        environment["CRUNCH_INSIDE_RUNNER"] = value
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import crunch, crunch.runner; print(crunch.is_inside_runner, crunch.runner.is_inside)",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [str(inside)] * 2
