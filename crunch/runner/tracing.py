"""`crunch.runner.tracing`: the span tracer a runner module's `run()` receives."""

from __future__ import annotations

from crunch_cli.protocol.tracer import RunnerTracer, to_execute_span_attributes

__all__ = ["RunnerTracer", "to_execute_span_attributes"]
