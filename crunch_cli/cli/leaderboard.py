"""`crunch leaderboard`: where your project stands, then the competition's leaderboard."""

from typing import Any

import typer

from crunch_cli.cli.output import JsonOption, add_row, echo, print_json
from crunch_cli.cli.state import State


def leaderboard(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show where your project stands, then the competition's leaderboard (best score per
    project)."""
    state: State = ctx.obj
    client = state.workspace().client()
    board = client.leaderboard()
    if as_json:
        print_json(board)
        return
    changes = client.leaderboard_changes(board.get("name", "@default"))
    targets = changes.get("targets") or []
    if not targets:
        echo("leaderboard: your project is not on the leaderboard yet")
    else:
        names = {
            metric["name"]: metric.get("displayName") or metric["name"]
            for metric in client.metrics()
        }
        _print_standing(targets, names)
    echo()
    from rich.console import Console
    from rich.table import Table

    table = Table("rank", "user", "project", board.get("metric", "score"), "submission", box=None)
    for entry in board.get("entries", []):
        mine = entry.get("projectName") == client.project_name and (
            entry.get("userId") == client.user_id
        )
        add_row(
            table,
            str(entry["rank"]),
            str(entry.get("userLogin", "")),
            str(entry.get("projectName", "")) + (" ←" if mine else ""),
            f"{entry['score']:.4f}",
            f"#{entry.get('submissionNumber', '')}",
        )
    Console().print(table)


def _print_standing(targets: list[dict[str, Any]], metric_names: dict[str, str]) -> None:
    """crunch-cli 13's lines: per target, its name, the project's rank (the one rewards
    follow) and its metrics."""
    for target in targets:
        echo(f"target: {target.get('displayName') or target.get('name')!r}")
        rank = (target.get("rewardRank") or {}).get("current")
        echo(f"  rank: {_in_unit((target.get('rank') or {}).get('unit'), rank, 'unranked')}")
        for name, metric in (target.get("metrics") or {}).items():
            value = _in_unit(metric.get("unit"), metric.get("current"), "unavailable")
            echo(f"  metric: {metric_names.get(name, name)!r}: {value}")


def _in_unit(unit: dict[str, Any] | None, value: float | None, missing: str) -> str:
    """A value with its unit (prefix, decimals, suffix), as crunch-cli 13 writes it."""
    if value is None:
        return missing
    unit = unit or {}
    scale = unit.get("scale")
    shown = round(value, scale) if scale else int(value)
    return f"{unit.get('prefix') or ''}{shown}{unit.get('suffix') or ''}"
