"""`crunch status`: this workspace's competition, project, hub, limits and today's quota."""

from typing import Any

import typer

from crunch_cli.cli.output import JsonOption, echo, human_size, print_json
from crunch_cli.cli.state import State


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
        ("code limit", human_size((quota.get("codeFiles") or {}).get("totalSize") or 0)),
        ("model limit", human_size((quota.get("modelFiles") or {}).get("totalSize") or 0)),
        ("submissions", f"{daily.get('current', 0)} today, {left} left"),
    ]
    if competition.get("runTimeLimitSeconds"):
        lines.append(("run limits", _run_limits(competition)))
    for label, value in lines:
        echo(f"{label:<13}{value}")


def _run_limits(competition: dict[str, Any]) -> str:
    memory = competition.get("runMemoryLimitMb")
    seconds = competition["runTimeLimitSeconds"]
    return f"{seconds} s" + (f", {memory} MiB of memory" if memory else "")
