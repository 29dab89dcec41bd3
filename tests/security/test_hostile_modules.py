"""A hostile organizer: its runner.py, run on the hub for someone's submission, tries to read
the hub's root, another competition's data and hidden files, the environment, and the
network. It is contained like a hostile submission: it sees its own run's folders only."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.runner import sandbox

pytestmark = pytest.mark.skipif(
    sandbox.bubblewrap_problem() is not None, reason="bubblewrap cannot run on this machine"
)

SCORING = """
from crunch.unstructured import ScoredMetric


def score(target_and_metrics):
    return {m.id: ScoredMetric(1.0) for _, metrics in target_and_metrics for m in metrics}
"""


def organizer(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_a_hostile_runner_on_the_hub_sees_only_its_own_run(hub, caller_for, tmp_path):
    other_hidden = hub.blob_path("demo-timeseries", "X_train")
    targets = [
        hub.root,
        hub.root / "secret",
        hub.root / "hub.sqlite3",
        hub.root / "blobs",
        other_hidden,
        other_hidden.parent.parent,
    ]
    runner = f"""
import os
import socket


def run(context, data_directory_path):
    for path in {[str(path) for path in targets]!r}:
        print("exists:", os.path.exists(path), path)
    found = set()
    for top in os.listdir("/"):
        if top in ("proc", "sys", "dev"):
            continue
        for folder, _dirs, files in os.walk("/" + top):
            if "site-packages" not in folder:
                found.update(name for name in files if name.endswith((".parquet", ".sqlite3")))
    print("parquet or sqlite files:", sorted(found))
    print("environment:", sorted(name for name in os.environ if "SECRET" in name))
    try:
        socket.create_connection(("1.1.1.1", 53), timeout=2)
        print("network: reached")
    except OSError as error:
        print("network: blocked", type(error).__name__)
    print("own data:", sorted(os.listdir(data_directory_path)))
    context.execute(command="noop")


def execute():
    return {{"noop": lambda: None}}
"""
    data, modules = tmp_path / "data", tmp_path / "scoring"
    (data / "hidden").mkdir(parents=True)
    modules.mkdir()
    (data / "released.json").write_text(json.dumps([1]))
    (data / "hidden" / "answers.json").write_text(json.dumps([2]))
    (modules / "runner.py").write_text(textwrap.dedent(runner))
    (modules / "scoring.py").write_text(textwrap.dedent(SCORING))
    created = organizer(
        "hub", "competition", "create", "evil-organizer", "--format", "unstructured",
        "--data-dir", str(data), "--modules", str(modules), "--metric", "m",
        "--root", str(hub.root),
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    caller = caller_for("alice", "alpha", "evil-organizer")
    submitted = caller.submit({"main.py": b"x = 1\n"})
    assert submitted.status_code == 200, submitted.text

    run = caller.wait_for_run(caller.create_run(submitted.json()["id"])["id"], timeout=120)
    lines = [line["content"] for line in caller.run_logs(run["id"])]

    exists = [line for line in lines if line.startswith("exists:")]
    assert len(exists) == len(targets), lines[-20:]
    assert all(line.startswith("exists: False") for line in exists), exists
    assert "parquet or sqlite files: []" in lines
    assert "environment: []" in lines
    assert any(line.startswith("network: blocked") for line in lines), lines[-20:]
    assert "own data: ['released.json']" in lines
    assert run["success"] is True, (run, lines[-10:])
    assert (hub.root / "hub.sqlite3").stat().st_size > 0
    assert Path(other_hidden).is_file()
