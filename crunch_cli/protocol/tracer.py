"""Timing what competition modules do, for the organizer's logs and the run's trace.

Two tracers, for two audiences:

- `Tracer` prints: scoring, leaderboard and submission modules wrap each step in
  `with tracer.log("Loading y_test"):` and the organizer reads when each step started and how
  long it took, indented by nesting depth.
- `RunnerTracer` records: the runner module's `run()` receives one as `tracer` and opens spans
  (`with tracer.span("execute", attributes=...)`), which the run keeps as its trace.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, TypeVar

__all__ = ["RunnerTracer", "Span", "SpanStatus", "Tracer", "to_execute_span_attributes"]

_T = TypeVar("_T")


class Tracer:
    """Prints `"<start> <indent> <action>"` when a step starts and the same line followed by
    `took <duration>` when it ends; nested steps are indented two more spaces."""

    def __init__(self, printer: Callable[[str], None] = print) -> None:
        self._depth = 0
        self._printer = printer

    @property
    def padding(self) -> str:
        return "  " * self._depth

    @contextmanager
    def log(self, action: str) -> Iterator[bool]:
        """Time the block. Memory is collected when it ends: scoring steps drop large frames,
        and the next step should not pay for them."""
        start = datetime.now()
        self._printer(f"{start} {self.padding} {action}")
        self._depth += 1
        try:
            yield True
        finally:
            self._depth -= 1
            gc.collect()
            self._printer(f"{start} {self.padding} {action} took {datetime.now() - start}")

    def loop(
        self,
        iterable: Iterable[_T],
        action: str | Callable[[_T], str],
        value_placeholder: str = "{value}",
    ) -> Iterator[_T]:
        """Yield each item inside its own `log` step, named by `action`: a callable of the
        item, or a text where `value_placeholder` is replaced by the item."""
        for value in iterable:
            if callable(action):
                message = str(action(value))
            else:
                message = str(action).replace(value_placeholder, str(value))
            with self.log(message):
                yield value


class SpanStatus(Enum):
    STARTED = "STARTED"
    ENDED = "ENDED"
    FAILED = "FAILED"


@dataclass
class Span:
    """One timed section of a run. Times are naive UTC, as the hub stores them."""

    id: int
    parent_id: int | None
    description: str
    attributes: dict[str, Any] | None
    started_at: datetime
    ended_at: datetime | None = None
    status: SpanStatus = SpanStatus.STARTED
    error: str | None = None


def _now_utc() -> datetime:
    return datetime.now(tz=timezone.utc).replace(tzinfo=None)


class RunnerTracer:
    """Records the spans a runner opens, nested by the order they are opened in.

    `listener` is told about each span when it starts and again when it ends (the same
    object, updated), so a run can stream its trace while it goes; `spans` keeps them all.
    """

    def __init__(self, listener: Callable[[Span], None] | None = None) -> None:
        self.spans: list[Span] = []
        self._listener = listener
        self._lock = threading.Lock()
        self._current: Span | None = None

    def _notify(self, span: Span) -> None:
        if self._listener is not None:
            self._listener(span)

    @contextmanager
    def span(
        self,
        description: str,
        attributes: Mapping[str, Any] | None = None,
        skip: bool = False,
    ) -> Iterator[None]:
        """Time the block as a span, child of the innermost open one; `skip` times nothing
        (runners pass `skip=not trace`). An exception marks the span failed and goes on."""
        if skip:
            yield
            return

        with self._lock:
            parent = self._current
            span = Span(
                id=len(self.spans) + 1,
                parent_id=parent.id if parent is not None else None,
                description=description,
                attributes=dict(attributes) if attributes is not None else None,
                started_at=_now_utc(),
            )
            self.spans.append(span)
            self._current = span
        self._notify(span)

        try:
            yield
        except BaseException as error:
            span.status = SpanStatus.FAILED
            span.error = f"{error.__class__.__name__}({error})"
            raise
        else:
            span.status = SpanStatus.ENDED
        finally:
            span.ended_at = _now_utc()
            self._current = parent
            self._notify(span)


def to_execute_span_attributes(
    command: str,
    parameters: Mapping[str, Any] | None,
    span_hidden_parameters: Iterable[str] | None = None,
    span_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The attributes of the span of `context.execute(command, parameters, ...)`.

    Parameters ending in `_path` are left out (they are sandbox paths, not information), and
    so are `span_hidden_parameters`; `parameters` appears only if something is left.
    `span_attributes` are merged last and win.
    """
    attributes: dict[str, Any] = {"command": command}
    if parameters is not None:
        hidden = set(span_hidden_parameters or ())
        shown = {
            key: value
            for key, value in parameters.items()
            if not key.endswith("_path") and key not in hidden
        }
        if shown:
            attributes["parameters"] = shown
    if span_attributes is not None:
        attributes.update(span_attributes)
    return attributes
