"""`crunch leaderboard` says where your project stands first, as crunch-cli 13.0.1 does, then
shows the table; against a real hub that runs code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import crunch_cli

TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


def test_a_project_without_a_scored_run_is_said_not_to_be_on_it(workspace, crunch):
    result = crunch("leaderboard")

    assert result.exit_code == 0, result.output
    first, blank, header = result.stdout.splitlines()[:3]
    assert first == "leaderboard: your project is not on the leaderboard yet"
    assert blank == ""
    assert header.split() == ["rank", "user", "project", "spearman", "submission"]


def test_the_rank_and_metrics_come_first_then_the_table(workspace, crunch):
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    pushed = crunch("push", "-m", "baseline", "--wait")
    assert pushed.exit_code == 0, pushed.output

    result = crunch("leaderboard")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"target: '\S+'", lines[0])
    assert lines[1] == "  rank: 1"
    assert re.fullmatch(r"  metric: '\w+': 0\.\d+", lines[2]), lines
    table = lines[lines.index("") + 1 :]
    assert table[0].split()[:3] == ["rank", "user", "project"]
    assert table[1].split()[:4] == ["1", "alice", "alpha", "←"]
