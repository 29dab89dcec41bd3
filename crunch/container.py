"""`crunch.container`: the streaming `infer` contract (one yield to start, one per element)."""

from __future__ import annotations

from crunch_cli.protocol.generator import GeneratorWrapper

__all__ = ["GeneratorWrapper"]
