"""The README is the user's manual: its commands must work and every command is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
import typer.main

from crunch_cli.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```console\n(.+?)\n```", section)


def test_quick_start_is_exactly_two_commands():
    commands = quick_start_commands()

    assert len(commands) == 2
    assert commands[0].endswith("crunch demo")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    assert quick_start_commands()[1] in (ROOT / ".ci" / "run").read_text()


def test_every_command_has_help_and_appears_in_the_readme():
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():
        assert (command.help or "").strip(), f"`crunch {name}` has no help text"
        names.append(name)

    missing = [name for name in names if f"crunch {name}" not in README]
    assert missing == []


def test_demo_walks_through_the_whole_loop_and_prints_the_hub_score(crunch):
    result = crunch("demo")

    assert result.exit_code == 0, result.output
    titles = re.findall(r"^\d+\. (.+)$", result.stdout, flags=re.MULTILINE)
    assert titles == [
        "Start a hub",
        "Get a setup token",
        "Set up the workspace",
        "Write a model",
        "Test it locally",
        "Push it",
        "Run it on the hub",
        "See the leaderboard",
    ]
    assert re.search(r"data/X_train\.parquet: [\d,]+ rows", result.stdout)
    assert re.search(r"^   run 1 succeeded: spearman 0\.\d+$", result.stdout, flags=re.MULTILINE)
    assert re.search(r"Done: your demo model scored 0\.\d+ on the hub\.", result.stdout)


@pytest.mark.parametrize("format", ["cross-sectional", "stream"])
def test_demo_runs_every_format(crunch, format):
    result = crunch("demo", "--format", format)

    assert result.exit_code == 0, result.output
    assert "run 1 succeeded" in result.stdout
