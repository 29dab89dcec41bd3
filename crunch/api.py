"""`crunch.api`: the API types competition modules receive (targets, metrics, phases)."""

from __future__ import annotations

from crunch_cli.protocol.types import Metric, PhaseType, SubmissionType, Target, Unit

__all__ = ["Metric", "PhaseType", "SubmissionType", "Target", "Unit"]
