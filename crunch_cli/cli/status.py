"""`crunch status`: this workspace's competition, project, hub, limits and today's quota."""

from typing import Any

import typer

from crunch_cli.cli.output import JsonOption, echo, print_json
from crunch_cli.cli.state import State
from crunch_cli.protocol import humanize

MIB = 1024 * 1024


def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show this workspace's competition, project, limits and today's quota."""
    state: State = ctx.obj
    settings = state.workspace()
    client = settings.client()
    competition = client.competition()
    quota = client.submit_quota()
    if as_json:
        print_json(
            {"competition": competition, "project": settings.config.to_json(), "quota": quota}
        )
        return
    daily = quota.get("submissionsPerDay") or {}
    left = max(0, (daily.get("maximum") or 0) - (daily.get("current") or 0))
    lines = [
        ("competition", f"{competition['name']} ({competition.get('format', '')})"),
        ("project", f"{client.project_name} (user {client.user_id})"),
        ("hub", client.base_url),
        ("website", state.settings.web_url()),
        ("code limit", humanize.size((quota.get("codeFiles") or {}).get("totalSize") or 0)),
        ("model limit", humanize.size((quota.get("modelFiles") or {}).get("totalSize") or 0)),
        *_run_limits(competition),
        ("submissions", f"{daily.get('current', 0)} today, {left} left"),
    ]
    for label, value in lines:
        echo(f"{label:<13}{value}")


def _run_limits(competition: dict[str, Any]) -> list[tuple[str, str]]:
    """What one run of a submission may take, as the hub says it (our hub nests them under
    `limits`; a hub that puts them at the top level is read too). Unset ones are left out."""
    limits = {**competition, **(competition.get("limits") or {})}
    lines = []
    if seconds := limits.get("runTimeLimitSeconds"):
        lines.append(("time limit", f"{humanize.duration(float(seconds))} per run"))
    if megabytes := limits.get("runMemoryLimitMb"):
        lines.append(("memory limit", f"{humanize.size(float(megabytes) * MIB)} per run"))
    return lines
