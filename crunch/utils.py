"""`crunch.utils`: calling functions by parameter name, and the printing tracer."""

from __future__ import annotations

from crunch_cli.protocol.smart_call import LazyValue, smart_call
from crunch_cli.protocol.tracer import Tracer

__all__ = ["LazyValue", "Tracer", "smart_call"]
