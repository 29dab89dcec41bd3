"""A module author declares only the parameters they need; smart_call fills them by name.

Expected values and log lines were observed from crunch-cli 13.0.1's `crunch.utils.smart_call`
on the same functions. Logged messages are remembered process-wide (a message is logged once),
so each test uses parameter names of its own.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from crunch.utils import LazyValue, smart_call


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{record.levelname} {record.getMessage()}" for record in caplog.records]


def test_parameters_are_filled_by_name_in_any_order() -> None:
    def infer(model_directory_path: str, X_test: list[int]) -> tuple[str, list[int]]:
        return model_directory_path, X_test

    assert smart_call(infer, {"X_test": [1], "model_directory_path": "resources"}) == (
        "resources",
        [1],
    )


def test_specific_values_override_default_values() -> None:
    def train(fill_a: int, fill_b: str) -> tuple[int, str]:
        return fill_a, fill_b

    assert smart_call(train, {"fill_a": 1, "fill_b": "default"}, {"fill_b": "specific"}) == (
        1,
        "specific",
    )


def test_unknown_names_get_none_and_a_warning_once(caplog: pytest.LogCaptureFixture) -> None:
    def infer(unknown_alpha: Any) -> Any:
        return unknown_alpha

    caplog.set_level(logging.DEBUG)
    assert smart_call(infer, {}) is None
    assert smart_call(infer, {}) is None

    assert _lines(caplog) == [
        "WARNING infer: unknown parameter: unknown_alpha",
        "DEBUG infer: set unknown_alpha=NoneType",
    ]


def test_defaulted_parameters_and_star_parameters_are_never_filled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Unannotated on purpose: the warning quotes the parameter as Python prints it.
    def f(star_a, star_b, star_c=3, *star_args, star_d, **star_kw):
        assert star_args == ()
        assert star_kw == {}
        return star_a, star_b, star_c, star_d

    caplog.set_level(logging.DEBUG)
    result = smart_call(f, {"star_a": 1, "star_b": 2, "star_c": 9, "star_args": 5, "star_kw": 6})

    # 13.0.1: (1, 2, 3, None), and these lines in this order.
    assert result == (1, 2, 3, None)
    assert _lines(caplog) == [
        "DEBUG f: set star_a=int",
        "DEBUG f: set star_b=int",
        "WARNING f: skip param with default value: star_c=3",
        "WARNING f: unsupported parameter: *star_args",
        "WARNING f: unknown parameter: star_d",
        "DEBUG f: set star_d=NoneType",
        "WARNING f: unsupported parameter: **star_kw",
    ]


def test_a_default_of_none_is_kept_even_when_the_name_is_offered() -> None:
    def infer(kept_x: int, kept_y: int | None = None) -> tuple[int, int | None]:
        return kept_x, kept_y

    assert smart_call(infer, {"kept_x": 1, "kept_y": 2}) == (1, None)


def test_lazy_values_are_computed_once_and_only_when_asked() -> None:
    computed: list[str] = []

    def factory() -> int:
        computed.append("lazy")
        return 42

    lazy = LazyValue(factory)

    def ignores(lazy_other: int) -> int:
        return lazy_other

    def wants(lazy_value: int) -> int:
        return lazy_value

    assert smart_call(ignores, {"lazy_other": 1, "lazy_value": lazy}) == 1
    assert computed == []
    assert smart_call(wants, {}, {"lazy_value": lazy}) == 42
    assert smart_call(wants, {"lazy_value": lazy}) == 42
    assert computed == ["lazy"]


def test_log_false_and_a_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    def quiet(quiet_name: Any) -> Any:
        return quiet_name

    def loud(loud_name: Any) -> Any:
        return loud_name

    caplog.set_level(logging.DEBUG)
    smart_call(quiet, {}, log=False)
    assert caplog.records == []

    smart_call(loud, {}, logger=logging.getLogger("organizer"))
    assert [record.name for record in caplog.records] == ["organizer", "organizer"]


def test_positional_only_parameters_fail_like_a_keyword_call() -> None:
    def positional(positional_only: int, /) -> int:
        return positional_only

    with pytest.raises(TypeError):
        smart_call(positional, {"positional_only": 1})
