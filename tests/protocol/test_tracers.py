"""The tracers organizers time their steps with.

`Tracer` line shapes were observed from crunch-cli 13.0.1 (`crunch.utils.Tracer`):
"<start> <indent> <action>" then "<start> <indent> <action> took <duration>", where the
indent is two spaces per enclosing step (so a top-level line has two spaces after the time).
"""

from __future__ import annotations

import re

import pytest

from crunch.runner.tracing import RunnerTracer, to_execute_span_attributes
from crunch.utils import Tracer
from crunch_cli.protocol.tracer import Span, SpanStatus

_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?"
_TOOK = r"\d+:\d\d:\d\d(\.\d+)?"


def test_tracer_log_and_loop_lines() -> None:
    lines: list[str] = []
    tracer = Tracer(printer=lines.append)

    with tracer.log("outer") as entered:
        assert entered is True
        assert list(tracer.loop([1, 2], "item {value}")) == [1, 2]
        assert list(tracer.loop([("a", 1)], lambda entry: f"entry {entry[0]}")) == [("a", 1)]
        assert list(tracer.loop([3], "no placeholder")) == [3]

    shapes = [
        ("", "outer", False),
        ("  ", "item 1", False),
        ("  ", "item 1", True),
        ("  ", "item 2", False),
        ("  ", "item 2", True),
        ("  ", "entry a", False),
        ("  ", "entry a", True),
        ("  ", "no placeholder", False),
        ("  ", "no placeholder", True),
        ("", "outer", True),
    ]
    assert len(lines) == len(shapes)
    for line, (indent, action, ended) in zip(lines, shapes, strict=True):
        took = f" took {_TOOK}" if ended else ""
        assert re.fullmatch(f"{_TIME} {indent} {re.escape(action)}{took}", line), line

    # The end line repeats the start time of its step.
    assert lines[0].split(" outer")[0] == lines[-1].split(" outer")[0]


def test_tracer_ends_a_failed_step_and_restores_the_indent() -> None:
    lines: list[str] = []
    tracer = Tracer(printer=lines.append)

    with pytest.raises(KeyError), tracer.log("failing"):
        raise KeyError("x")
    with tracer.log("next"):
        pass

    assert " failing took " in lines[1]
    assert re.fullmatch(f"{_TIME}  next", lines[2])


def test_execute_span_attributes() -> None:
    # All four observed from 13.0.1's crunch.runner.tracing.to_execute_span_attributes.
    assert to_execute_span_attributes(
        "infer", {"a": 1, "x_path": "p", "h": 2}, ["h"], {"z": 3}
    ) == {
        "command": "infer",
        "parameters": {"a": 1},
        "z": 3,
    }
    assert to_execute_span_attributes("train", None) == {"command": "train"}
    assert to_execute_span_attributes("train", {"x_path": 1}) == {"command": "train"}
    assert to_execute_span_attributes("t", {"a": 1}, None, {"command": "o"}) == {
        "command": "o",
        "parameters": {"a": 1},
    }


def test_runner_tracer_records_nested_spans() -> None:
    seen: list[tuple[str, SpanStatus]] = []
    tracer = RunnerTracer(listener=lambda span: seen.append((span.description, span.status)))

    with tracer.span("execute", attributes={"command": "train"}):
        with tracer.span("load"):
            pass
        with tracer.span("hidden", skip=True):
            pass
    with pytest.raises(ValueError, match="bad"), tracer.span("infer"):
        raise ValueError("bad")

    execute, load, infer = tracer.spans
    assert (execute.id, execute.parent_id, execute.attributes) == (1, None, {"command": "train"})
    assert (load.id, load.parent_id) == (2, 1)
    assert (infer.id, infer.parent_id) == (3, None)
    assert execute.status is SpanStatus.ENDED and execute.error is None
    assert infer.status is SpanStatus.FAILED and infer.error == "ValueError(bad)"
    assert all(isinstance(span, Span) and span.ended_at is not None for span in tracer.spans)
    assert all(span.ended_at >= span.started_at for span in tracer.spans if span.ended_at)
    # The listener hears each span start, then end (its status as it was at the time).
    assert [description for description, _ in seen] == [
        "execute",
        "load",
        "load",
        "execute",
        "infer",
        "infer",
    ]
