"""`crunch.runner.unstructured`: what a runner module's `run()` and `execute()` receive."""

from __future__ import annotations

from crunch_cli.protocol.contexts import (
    DEFAULT_LOG_LIMITS,
    RunnerContext,
    RunnerExecutorContext,
    UserModule,
)

__all__ = ["DEFAULT_LOG_LIMITS", "RunnerContext", "RunnerExecutorContext", "UserModule"]
