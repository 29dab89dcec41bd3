"""Calling the user's functions in the child: arguments by name, and phase events.

Every call is framed by a `start` and an `end` event on the event pipe, so the parent
knows which phase is running (for `--timeout`, the progress shown meanwhile and the summary)
without parsing output. A schedule that knows how many moons it walks says so first, in a
`plan` event (`{"type": "plan", "total": N}`), so the progress has an end; a `train()` call
left out because its data did not change is a `skip` event.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class ProtocolError(Exception):
    """The user's code broke a rule of the format (not a crash inside it)."""


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class Events:
    """JSON lines to the parent on a dedicated pipe, apart from the user's output."""

    def __init__(self, fd: int | None) -> None:
        self._file = os.fdopen(fd, "w", buffering=1) if fd is not None else None
        self.phase: str | None = None
        self._label: str | None = None

    def send(self, **event: Any) -> None:
        if self._file is not None:
            self._file.write(json.dumps(event, default=str) + "\n")

    def request(self, **request: Any) -> dict[str, Any]:
        """Ask the parent to act (run a command, close the data folder) and wait for its
        answer, one JSON line on stdin."""
        self.send(type="request", **request)
        line = sys.stdin.readline()
        answer = json.loads(line) if line.strip() else {}
        return answer if isinstance(answer, dict) else {}

    def note(self, message: str, *, error: bool = False) -> None:
        """A line of a module's own (not of the participant's code)."""
        print(message, file=sys.stderr if error else sys.stdout, flush=True)

    @contextlib.contextmanager
    def framing(self, phase: str, moon: Any = None) -> Iterator[None]:
        self.phase = phase
        self.send(type="start", phase=self._label or phase, moon=plain_value(moon))
        yield
        self.send(type="end", phase=self._label or phase)
        self.phase = None

    @contextlib.contextmanager
    def counted_as(self, label: str) -> Iterator[None]:
        """Report the calls made inside as `label`, so extra calls do not skew the summary."""
        self._label = label
        try:
            yield
        finally:
            self._label = None


def plain_value(value: Any) -> Any:
    """A moon as an event carries it: numpy scalars are not JSON; the parent only shows it."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


class Caller:
    """Calls one user function, filling each parameter by its name.

    A known name gets its value; an unknown one keeps its default, or gets None with one
    warning; *args/**kwargs get nothing, with one warning. Warnings are given once per
    function, not once per call, so a loop over 500 moons prints them once.
    """

    def __init__(self, function: Callable[..., Any], name: str, events: Events) -> None:
        self.function = function
        self.name = name
        self.events = events
        self.parameters = list(inspect.signature(function).parameters.values())
        self._warned: set[str] = set()

    @classmethod
    def find(cls, module: Any, name: str, events: Events) -> Caller:
        function = getattr(module, name, None)
        if not callable(function):
            raise ProtocolError(
                f"{module.__file__} defines no {name}() function; define it at the top level"
            )
        return cls(function, name, events)

    def arguments(self, values: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        positional: list[Any] = []
        named: dict[str, Any] = {}
        for parameter in self.parameters:
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                self._warn_once(
                    parameter.name,
                    f"{self.name}() takes {parameter}: nothing is passed to it; "
                    "name each parameter you need",
                )
                continue
            if parameter.name in values:
                value = values[parameter.name]
            elif parameter.default is not parameter.empty:
                value = parameter.default
            else:
                self._warn_once(
                    parameter.name,
                    f"{self.name}() parameter {parameter.name!r} is unknown: it receives None",
                )
                value = None
            if parameter.kind == parameter.POSITIONAL_ONLY:
                positional.append(value)
            else:
                named[parameter.name] = value
        return positional, named

    def __call__(self, values: Mapping[str, Any], moon: Any = None) -> Any:
        positional, named = self.arguments(values)
        with self.events.framing(self.name, moon):
            return self.function(*positional, **named)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warn(message)
