"""Calling a function of a competition module, or of the participant, with arguments by name.

Organizers and participants declare only the parameters they need, in any order, with
whatever names the competition documents. `smart_call` looks each parameter up by name in the
values on offer, so adding a new value never breaks existing code:

- a parameter with a default value keeps its default (it is never filled);
- a name nobody offers gets `None` (with a warning), rather than a `TypeError`;
- `*args` and `**kwargs` receive nothing;
- a `LazyValue` is computed only when some parameter asks for it.

Warnings and debug lines go to a logger, each distinct message once per process: a loop that
calls `infer` a thousand times warns about its unknown parameter once.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["LazyValue", "smart_call"]

_T = TypeVar("_T")

# Messages already logged, without the function-name prefix: 13.0.1 keys them this way, so a
# warning about an unknown `foo` is logged for the first function that asks for it only.
_logged_messages: set[str] = set()
_logged_lock = threading.Lock()


class _Unset:
    """Marks "no value yet" (None is a legitimate value)."""


_UNSET = _Unset()


class LazyValue(Generic[_T]):
    """A value computed on first access, for offers that are expensive to prepare.

    `submission.py`'s `check` is offered the parsed requirements this way: they are parsed
    only if the organizer's function declares `python_requirements` or `r_requirements`.
    """

    def __init__(self, factory: Callable[[], _T]) -> None:
        self._factory = factory
        self._value: _T | _Unset = _UNSET

    @property
    def value(self) -> _T:
        """The factory's result, computed once and then kept."""
        if isinstance(self._value, _Unset):
            self._value = self._factory()
        return self._value


def _log_once(logger: logging.Logger, level: int, function_name: str, message: str) -> None:
    with _logged_lock:
        if message in _logged_messages:
            return
        _logged_messages.add(message)
    logger.log(level, "%s: %s", function_name, message)


def smart_call(
    function: Callable[..., _T],
    default_values: Mapping[str, Any],
    specific_values: Mapping[str, Any] | None = None,
    log: bool = True,
    logger: logging.Logger | None = None,
) -> _T:
    """Call `function` with keyword arguments picked by parameter name.

    `specific_values` override `default_values` of the same name: runners pass the shared
    paths as defaults and the per-command data as specific values. Only keyword arguments are
    passed, so a positional-only parameter fails with the usual `TypeError`.
    """
    values = {**default_values, **(specific_values or {})}
    target = logger if logger is not None else logging.getLogger()
    name = getattr(function, "__name__", repr(function))

    def note(level: int, message: str) -> None:
        if log:
            _log_once(target, level, name, message)

    arguments: dict[str, Any] = {}
    for parameter_name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            note(logging.WARNING, f"unsupported parameter: {parameter}")
            continue

        if parameter.default is not parameter.empty:
            note(
                logging.WARNING,
                f"skip param with default value: {parameter_name}={parameter.default}",
            )
            continue

        value = values.get(parameter_name, _UNSET)
        if value is _UNSET:
            note(logging.WARNING, f"unknown parameter: {parameter_name}")
            value = None

        if isinstance(value, LazyValue):
            value = value.value

        note(logging.DEBUG, f"set {parameter_name}={value.__class__.__name__}")
        arguments[parameter_name] = value

    return function(**arguments)
