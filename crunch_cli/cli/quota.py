"""`crunch quota`: what this project may still send and run today (crunch-cli 13's command)."""

from datetime import timedelta

import typer

from crunch_cli.cli.output import JsonOption, echo, human_size, print_json
from crunch_cli.cli.state import State


def quota(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the project's submission and compute quotas."""
    state: State = ctx.obj
    client = state.workspace().client()
    submit, compute = client.submit_quota(), client.compute_quota()
    if as_json:
        print_json({"submit": submit, "compute": compute})
        return
    daily = submit.get("submissionsPerDay") or {}
    current, maximum = int(daily.get("current") or 0), int(daily.get("maximum") or 0)
    left = "blocked" if current >= maximum else f"{maximum - current} left"
    echo("submit quota:")
    for label, field in (("code files", "codeFiles"), ("model files", "modelFiles")):
        echo(f"  {label:<20}{human_size((submit.get(field) or {}).get('totalSize') or 0)}")
    echo(f"  {'submissions today':<20}{current}/{maximum} ({left}; resets at midnight UTC)")
    echo("compute quota:")
    for label in ("available", "remaining", "used"):
        echo(f"  {label:<20}{timedelta(seconds=round(float(compute.get(label) or 0)))}")
    running = "a run is running" if compute.get("running") else "no run is running"
    echo(f"  {'running':<20}{running}")
