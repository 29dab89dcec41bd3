"""What a runner module is given, and how every organizer function is called.

A competition's `runner.py` has two entry points, run in two places:

- `run(context, ...)` orchestrates, in a trusted process that has the data. Its
  `RunnerContext` says what kind of run this is and starts commands of the participant's code
  (`context.execute(command="train", parameters={...})`).
- `execute(context, module, ...)` runs where the participant's code runs (a sandboxed child
  on a hub). It returns `{command: handler}`; its `RunnerExecutorContext` lets a handler
  declare that the data has been read (`trip_data_fuse()`), and `UserModule` gives the
  participant's functions.

The local test and the hub implement these classes; the members are those of crunch-cli
13.0.1, since runner modules written for it use them by name.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any, Literal, TypeVar

from crunch_cli.protocol.smart_call import LazyValue, smart_call
from crunch_cli.protocol.types import ParticipantVisibleError

__all__ = [
    "DEFAULT_LOG_LIMITS",
    "INSIDE_RUNNER_ENVIRONMENT_VARIABLE",
    "RunnerContext",
    "RunnerExecutorContext",
    "UserModule",
    "call_function",
    "inside_runner",
]

_T = TypeVar("_T")

# Lines of the participant's output kept per command on the hub: the first 1000, the last 500.
DEFAULT_LOG_LIMITS: tuple[int, int] = (1000, 500)

INSIDE_RUNNER_ENVIRONMENT_VARIABLE = "CRUNCH_INSIDE_RUNNER"


def inside_runner() -> bool:
    """Whether this process runs inside a hub's runner (`CRUNCH_INSIDE_RUNNER=true`)."""
    return os.environ.get(INSIDE_RUNNER_ENVIRONMENT_VARIABLE, "false").lower() == "true"


class RunnerContext(ABC):
    """Given to the runner module's `run()`: the run's settings, and `execute()`."""

    @property
    @abstractmethod
    def started_at(self) -> datetime:
        """When the run started (local time, naive)."""

    @property
    @abstractmethod
    def timeout(self) -> timedelta | None:
        """The run's whole time budget, None when unlimited."""

    @property
    def remaining_duration_before_timeout(self) -> timedelta | None:
        """What is left of `timeout` now, None when unlimited (negative once exceeded)."""
        timeout = self.timeout
        if timeout is None:
            return None
        return timeout - (datetime.now() - self.started_at)

    @property
    @abstractmethod
    def train_frequency(self) -> int:
        """Retrain every this many steps (0: never retrain after the first training)."""

    @property
    @abstractmethod
    def force_first_train(self) -> bool:
        """Whether the run must train before the first inference."""

    @property
    @abstractmethod
    def is_local(self) -> bool:
        """Whether this is a test on the participant's machine (or notebook), not a hub run."""

    @property
    @abstractmethod
    def is_submission_phase(self) -> bool:
        """Whether the run is for the submission phase (always true locally)."""

    @property
    def is_first_time(self) -> bool:
        """Whether no earlier run prepared this one: every submission-phase run, and the
        first out-of-sample run (chain height 2, after the submission run's 1)."""
        if self.is_submission_phase:
            return True
        return self.chain_height <= 2

    @property
    @abstractmethod
    def chain_height(self) -> int:
        """How many consecutive runs, this one included, had the same parameters."""

    @property
    @abstractmethod
    def has_model(self) -> bool:
        """Whether the submission came with model files."""

    @property
    @abstractmethod
    def is_determinism_check_enabled(self) -> bool:
        """Whether `run()` should run inference twice and report if the results match."""

    @abstractmethod
    def report_determinism(self, deterministic: bool) -> None:
        """Record the verdict of the determinism check."""

    @abstractmethod
    def log(self, message: str, *, important: bool = False, error: bool = False) -> Literal[True]:
        """Write a line to the run's log (a warning when `important`, an error when `error`)."""

    @abstractmethod
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
        """Run one command of the participant's code: the runner module's `execute()` gives
        the handler for `command`, called with `parameters` by name (on a hub they travel as
        JSON). `trace` opens an "execute" span (attributes: `to_execute_span_attributes`).
        With `install_data_fuse`, the data stays readable until the handler trips the fuse;
        without it, the data is never readable. `log_limits` is the (head, tail) number of
        output lines a hub keeps. A failure of the participant's code fails the run."""


class RunnerExecutorContext(ABC):
    """Given to the runner module's `execute()`, where the participant's code runs."""

    @property
    @abstractmethod
    def is_local(self) -> bool:
        """Whether this is a local test."""

    @abstractmethod
    def trip_data_fuse(self) -> None:
        """Declare that the data has been read: from now on the participant's code runs, and
        the data directory is made unreadable (on a hub; locally this does nothing)."""


class _NoDefault:
    """Marks "no default given" for `UserModule.get_value` (None is a valid default)."""


_NO_DEFAULT = _NoDefault()


class UserModule(ABC):
    """The participant's code, as the runner module's `execute()` sees it."""

    @property
    @abstractmethod
    def module(self) -> ModuleType:
        """The participant's loaded module."""

    def get_function(self, name: str) -> Callable[..., Any]:
        """The participant's function `name`; a `ValueError` if there is none."""
        function: object = getattr(self.module, name, None)
        if not callable(function):
            raise ValueError(f"no `{name}` function found")
        return function

    def get_value(self, name: str, *, default: Any = _NO_DEFAULT) -> Any:
        """The module attribute `name`, else `default`; a `ValueError` if neither exists."""
        value = getattr(self.module, name, default)
        if value is _NO_DEFAULT:
            raise ValueError(f"no `{name}` value found")
        return value


def call_function(
    function: Callable[..., _T],
    kwargs: Mapping[str, Any] | None = None,
    *,
    lazy_kwargs: Mapping[str, Callable[[], Any]] | None = None,
    print: Callable[[str], None] | None = None,
) -> _T:
    """Call an organizer function with `smart_call`; `lazy_kwargs` are computed only if asked.

    Organizers reject a prediction or a submission by raising an exception of a class named
    `ParticipantVisibleError`, usually defined in their own module (they cannot import ours
    on older tools). Any exception so named comes out as our `ParticipantVisibleError` with
    the same message, chained to the original; other exceptions pass through unchanged.
    """
    try:
        if print is not None:
            print(f"\n\ncalling {function}\n")
        lazy = {name: LazyValue(factory) for name, factory in (lazy_kwargs or {}).items()}
        return smart_call(function, kwargs or {}, lazy)
    except Exception as error:
        if type(error).__name__ == ParticipantVisibleError.__name__:
            raise ParticipantVisibleError(str(error)) from error
        raise
