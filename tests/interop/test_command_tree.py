"""Every command and option a crunch-cli 13.0.1 user types exists in ours, with the same shape.

Both trees are read from the Click objects themselves, not from help text: 13.0.1's inside its
own venv (a short script prints it as JSON), ours in this process from the Typer app. For each
13.0.1 command we require the command, every spelling of every option, the same kind of option
(a flag, or one that takes a value) and room for as many positional arguments. What we leave
out on purpose is listed, with its reason, in `command_tree_exceptions.py`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
from command_tree_exceptions import EXCEPTIONS

from crunch_cli.cli import app

# Runs in 13.0.1's venv: its Click objects, dumped as {"command path": {...}}.
_DUMP_THEIRS = """
import json, sys
import click
from crunch.cli import cli

def walk(command, path, tree):
    tree[" ".join(path)] = describe(command)
    for name, sub in (getattr(command, "commands", None) or {}).items():
        walk(sub, [*path, name], tree)
    return tree

def describe(command):
    options, arguments = {}, []
    for param in command.params:
        if isinstance(param, click.Argument):
            arguments.append(-1 if param.nargs < 0 else param.nargs)
        else:
            for spelling in [*param.opts, *param.secondary_opts]:
                options[spelling] = bool(param.is_flag) or param.count
    return {"options": options, "arguments": arguments}

json.dump(walk(cli, [], {}), sys.stdout)
"""


def _describe(command: Any) -> dict[str, Any]:
    options: dict[str, bool] = {}
    arguments: list[int] = []
    for param in command.params:
        if param.param_type_name == "argument":
            arguments.append(-1 if param.nargs < 0 else param.nargs)
            continue
        for spelling in [*param.opts, *param.secondary_opts]:
            options[spelling] = bool(param.is_flag or param.count)
    return {"options": options, "arguments": arguments}


def _our_tree() -> dict[str, dict[str, Any]]:
    tree: dict[str, dict[str, Any]] = {}

    def walk(command: Any, path: list[str]) -> None:
        tree[" ".join(path)] = _describe(command)
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return tree


@pytest.fixture(scope="module")
def their_tree(public_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Run away from this checkout: its own `crunch` package would shadow 13.0.1's.
    home = tmp_path_factory.mktemp("tree-home")
    done = subprocess.run(
        [str(public_venv / "bin" / "python"), "-c", _DUMP_THEIRS],
        cwd=home,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _differences(theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """What a 13.0.1 user types that ours would refuse or read differently, one line each."""
    found: list[str] = []
    for path, their in theirs.items():
        label = path or "crunch"
        our = ours.get(path)
        if our is None:
            found.append(f"{label}: no such command")
            continue
        for spelling, is_flag in their["options"].items():
            if spelling not in our["options"]:
                found.append(f"{label} {spelling}: no such option")
            elif our["options"][spelling] != is_flag:
                kind = "a flag" if is_flag else "an option with a value"
                found.append(f"{label} {spelling}: should be {kind}")
        their_args, our_args = their["arguments"], our["arguments"]
        if -1 not in our_args and (-1 in their_args or sum(their_args) > sum(our_args)):
            found.append(f"{label}: takes fewer positional arguments ({our_args} < {their_args})")
    return found


def _excepted(difference: str) -> bool:
    """A difference is expected when it, or the command it is about, is listed."""
    subject = difference.split(":", 1)[0]
    words = subject.split()
    commands = {" ".join(words[:n]) for n in range(1, len(words) + 1)}
    return subject in EXCEPTIONS or bool(commands & EXCEPTIONS.keys())


def test_every_command_and_option_of_13_0_1_exists_in_ours(their_tree: Any) -> None:
    differences = _differences(their_tree, _our_tree())
    missing = [line for line in differences if not _excepted(line)]
    assert not missing, "missing from our crunch:\n" + "\n".join(missing)


def test_every_exception_is_still_needed(their_tree: Any) -> None:
    """An exception for something we now have is stale: it would hide a future regression."""
    differences = _differences(their_tree, _our_tree())
    subjects = {line.split(":", 1)[0] for line in differences}
    used = {key for key in EXCEPTIONS if any(s == key or s.startswith(key + " ") for s in subjects)}
    assert set(EXCEPTIONS) - used == set()


def test_every_exception_gives_its_reason() -> None:
    assert all(reason.strip() for reason in EXCEPTIONS.values())
