"""A stream runner wraps the participant's `infer` generator in GeneratorWrapper.

The contract: yield once (nothing) when ready, then exactly one answer per element taken.
Each way of breaking it has its own message; the messages and exception types below were
observed from crunch-cli 13.0.1's `crunch.container.GeneratorWrapper` on the same generators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from crunch.container import GeneratorWrapper
from crunch.utils import smart_call


def _collect(
    infer: Callable[..., Any], elements: list[int], expected: int | None = None
) -> tuple[list[Any], list[timedelta]]:
    wrapper = GeneratorWrapper(
        iter(elements),
        lambda stream: smart_call(infer, {"X_test": stream}),
        element_wrapper_factory=lambda element: element * 10,
        post_processor=lambda answer: answer + 1,
    )
    return wrapper.collect(len(elements) if expected is None else expected)


def test_one_answer_per_element_after_a_first_empty_yield() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield  # the model is loaded
        yield from X_test

    values, durations = _collect(infer, [1, 2, 3])

    # Elements go through element_wrapper_factory, answers through post_processor.
    assert values == [11, 21, 31]
    assert len(durations) == 3
    assert all(isinstance(took, timedelta) and took >= timedelta(0) for took in durations)


def test_an_empty_stream_gives_no_answers() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        yield from X_test

    assert _collect(infer, []) == ([], [])


def test_answer_count_must_match_the_expected_size() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        yield from X_test

    with pytest.raises(ValueError, match=r"^yield not called enough time \(3 / 4\)$"):
        _collect(infer, [1, 2, 3], expected=4)


def test_looping_before_the_first_yield() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int]:
        yield from X_test

    with pytest.raises(RuntimeError, match=r"^yield must be called once before the loop$"):
        _collect(infer, [1, 2, 3])


def test_the_first_yield_must_be_empty() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int]:
        yield 1
        yield from X_test

    with pytest.raises(ValueError, match=r"^first yield must return None$"):
        _collect(infer, [1, 2, 3])


def test_taking_a_second_element_before_answering_the_first() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        first, second = next(X_test), next(X_test)
        yield first
        yield second

    with pytest.raises(RuntimeError, match=r"^previous value not yield-ed$"):
        _collect(infer, [1, 2, 3])


def test_skipping_an_answer_is_taking_ahead() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        for index, element in enumerate(X_test):
            if index != 1:
                yield element

    with pytest.raises(RuntimeError, match=r"^previous value not yield-ed$"):
        _collect(infer, [1, 2, 3])


def test_answering_twice_for_one_element() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        for element in X_test:
            yield element
            yield element

    with pytest.raises(RuntimeError, match=r"^multiple yield detected$"):
        _collect(infer, [1, 2, 3])


def test_answering_before_taking_an_element() -> None:
    def infer(X_test: Iterator[int]) -> Iterator[int | None]:
        yield
        yield 5
        yield from X_test

    with pytest.raises(RuntimeError, match=r"^multiple yield detected$"):
        _collect(infer, [1, 2, 3])


def test_infer_must_be_a_generator() -> None:
    def infer(X_test: Iterator[int]) -> list[int]:
        return [1]

    with pytest.raises(RuntimeError, match=r"^yield not called$"):
        _collect(infer, [1, 2, 3])


def test_the_wrapper_defaults_to_passing_elements_and_answers_unchanged() -> None:
    def infer(X_test: Iterator[str]) -> Iterator[str | None]:
        yield
        for element in X_test:
            yield element.upper()

    wrapper = GeneratorWrapper(iter(["a", "b"]), lambda stream: infer(stream))
    values, _ = wrapper.collect(2)
    assert values == ["A", "B"]
