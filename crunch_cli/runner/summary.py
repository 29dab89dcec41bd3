"""The closing summary of a test, as a rich renderable that the CLI and notebooks print.

Durations and sizes are written as every command writes them (`crunch_cli.protocol.humanize`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crunch_cli.protocol import humanize
from crunch_cli.runner.spec import metric_details

if TYPE_CHECKING:
    from rich.console import Group

    from crunch_cli.runner.local import TestReport

_PHASE_LABELS = {
    "import": "import code",
    "load": "load data",
    "train": "train()",
    "infer": "infer()",
    "determinism": "infer() again (determinism)",
    "judge": "checks and score",
}


def render(report: TestReport) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    result = report.result
    phases = Table(title=f"crunch test: {report.main_file}", title_justify="left")
    phases.add_column("phase")
    phases.add_column("calls", justify="right")
    phases.add_column("wall time", justify="right")
    for name, timing in result.phases.items():
        label = _PHASE_LABELS.get(name, name)
        phases.add_row(label, str(timing.calls), humanize.duration(timing.seconds))
    phases.add_row("total", "", humanize.duration(result.wall_seconds), style="bold")

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row(
        "peak memory",
        f"{humanize.size(result.peak_rss)} (your code), "
        f"{humanize.size(result.parent_peak_rss)} (crunch)",
    )
    if skipped := report.result.skipped_trains:
        facts.add_row("train()", f"skipped {_times(skipped)}: same data as before")
    facts.add_row("sandbox", result.sandbox)
    facts.add_row("network", result.network)
    facts.add_row("gpu", "yes" if result.has_gpu else "no")
    if result.deterministic is not None:
        facts.add_row("deterministic", "yes" if result.deterministic else "NO")
    if report.score is not None:
        score = report.score
        value = f"{score.value:.6f}" if score.value is not None else f"unavailable: {score.error}"
        facts.add_row(f"local score ({score.metric})", value)
    for metric in result.metrics or ():
        scored = metric.get("value")
        details = metric_details(metric)
        text = f"not scored: {metric.get('error')}" if scored is None else f"{scored:.6f}"
        facts.add_row(
            f"{metric.get('target')} / {metric.get('name')}",
            Text(f"{text}  {details}".rstrip()),
        )
    if report.predictions_path is not None:
        facts.add_row("predictions", str(report.predictions_path))
    facts.add_row("log", str(report.log_path))
    return Group(phases, facts)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


MAX_FAILURE_LINES = 20


def failure_lines(report: TestReport) -> list[str]:
    """One line per failed check, the first few only: 500 moons can fail the same way."""
    lines = [f"check failed: {failure}" for failure in report.failures[:MAX_FAILURE_LINES]]
    if len(report.failures) > MAX_FAILURE_LINES:
        lines.append(f"... and {len(report.failures) - MAX_FAILURE_LINES} more failed checks")
    return lines
