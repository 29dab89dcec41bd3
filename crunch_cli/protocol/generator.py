"""The streaming `infer` contract: a generator that answers one element at a time.

Stream competitions hand the participant's `infer` an iterator and expect a generator back.
The participant first yields once (`yield` with no value) to say "my model is loaded", then,
for every element taken from the iterator, yields exactly one prediction. Timing each answer
separately is the point: the platform measures per-element latency, and a participant who
reads ahead or answers twice would break the one-to-one pairing of inputs and predictions.

`GeneratorWrapper` enforces that contract and reports a violation with one fixed message per
rule (runners and participants search logs for them, so they are part of the protocol).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timedelta
from types import GeneratorType
from typing import Any, cast

__all__ = ["GeneratorWrapper"]


def _identity(value: Any) -> Any:
    return value


class GeneratorWrapper:
    """Drive a participant's generator over `iterator` and collect one answer per element.

    `consumer_factory` receives the wrapped stream and returns the participant's generator,
    typically `lambda stream: smart_call(infer, defaults, {"X_test": stream})`. The first
    `next()` happens here, so loading errors surface when the wrapper is built.
    `element_wrapper_factory` transforms each element before the participant sees it;
    `post_processor` transforms each answer before it is collected.
    """

    ERROR_YIELD_MUST_BE_CALLED_BEFORE = "yield must be called once before the loop"
    ERROR_PREVIOUS_VALUE_NOT_YIELD = "previous value not yield-ed"
    ERROR_YIELD_NOT_CALLED = "yield not called"
    ERROR_FIRST_YIELD_MUST_BE_NONE = "first yield must return None"
    ERROR_MULTIPLE_YIELD = "multiple yield detected"
    ERROR_WRONG_YIELD_CALL_COUNT_PREFIX = "yield not called enough time"

    def __init__(
        self,
        iterator: Iterator[Any],
        consumer_factory: Callable[[Iterator[Any]], object],
        *,
        element_wrapper_factory: Callable[[Any], Any] | None = None,
        post_processor: Callable[[Any], Any] | None = None,
    ) -> None:
        self.element_wrapper_factory = element_wrapper_factory or _identity
        self.post_processor = post_processor or _identity

        # None until the participant's first yield; then True when an answer is due from
        # the stream's side (the participant may take the next element), False while an
        # element is out and its answer not yet given.
        self.ready: bool | None = None
        # True when the element last handed out has been answered (or none was handed out).
        self.consumed = True

        consumer = consumer_factory(self._stream(iterator))
        if not isinstance(consumer, GeneratorType):
            raise RuntimeError(self.ERROR_YIELD_NOT_CALLED)

        generator = cast(Generator[Any, Any, Any], consumer)
        if next(generator) is not None:
            raise ValueError(self.ERROR_FIRST_YIELD_MUST_BE_NONE)

        self.ready = True
        self.consumer = generator

    def _stream(self, iterator: Iterator[Any]) -> Iterator[Any]:
        """The iterator the participant sees: it refuses to run ahead of the answers."""
        for element in iterator:
            if self.ready is None:
                raise RuntimeError(self.ERROR_YIELD_MUST_BE_CALLED_BEFORE)
            if not self.ready:
                raise RuntimeError(self.ERROR_PREVIOUS_VALUE_NOT_YIELD)

            self.ready = False
            self.consumed = False
            yield self.element_wrapper_factory(element)

    def collect(self, expected_size: int) -> tuple[list[Any], list[timedelta]]:
        """Run the participant's generator to its end: its answers and the time each took.

        Raises when the participant answers twice for one element, or when the number of
        answers differs from `expected_size` (the number of elements of the stream).
        """
        values: list[Any] = []
        durations: list[timedelta] = []
        end = object()

        while True:
            start = datetime.now()
            answer = next(self.consumer, end)
            if answer is end:
                break
            took = datetime.now() - start

            values.append(self.post_processor(answer))
            durations.append(took)

            self.ready = True
            if self.consumed:
                raise RuntimeError(self.ERROR_MULTIPLE_YIELD)
            self.consumed = True

        if len(values) != expected_size:
            raise ValueError(
                f"{self.ERROR_WRONG_YIELD_CALL_COUNT_PREFIX} ({len(values)} / {expected_size})"
            )

        return values, durations
