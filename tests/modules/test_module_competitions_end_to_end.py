"""A module competition from the organizer's folder to a competitor's `crunch test`: the
hub serves the modules, `crunch setup` keeps them (sha256-checked) with the metrics, and
`crunch test` runs and scores offline afterwards."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import requests
from test_local_module_runs import MAIN, RUNNER, SCORING
from typer.testing import CliRunner

from crunch_cli.cli import app

NAME = "modular"


def organizer(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def competition_folders(tmp_path: Path) -> tuple[Path, Path]:
    data, modules = tmp_path / "organizer" / "data", tmp_path / "organizer" / "scoring"
    (data / "hidden").mkdir(parents=True)
    modules.mkdir()
    (data / "train.json").write_text(json.dumps([1, 1, 1]))
    (data / "test.json").write_text(json.dumps([1, 2, 3]))
    (data / "hidden" / "y_test.json").write_text(json.dumps([4, 6, 9]))
    (modules / "runner.py").write_text(textwrap.dedent(RUNNER))
    (modules / "scoring.py").write_text(textwrap.dedent(SCORING))
    return data, modules


def create(hub, data: Path, modules: Path) -> None:
    result = organizer(
        "hub", "competition", "create", NAME, "--format", "unstructured",
        "--data-dir", str(data), "--modules", str(modules), "--target", "y",
        "--metric", "accuracy", "--metric", "error-count", "--root", str(hub.root),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_setup_keeps_the_modules_and_crunch_test_runs_them_offline(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    create(hub, *competition_folders)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))
    setup = crunch("--api-base-url", hub.url, "setup", NAME, "alpha")
    assert setup.exit_code == 0, setup.output
    root = tmp_path / f"{NAME}-alpha"
    assert (root / ".crunchdao" / "modules" / "runner.py").read_text() == textwrap.dedent(RUNNER)
    cache = json.loads((root / ".crunchdao" / "competition.json").read_text())
    assert set(cache["modules"]) == {"runner", "scoring"}
    assert [metric["name"] for metric in cache["metrics"]] == ["accuracy", "error-count"]
    assert not (root / "data" / "hidden").exists()
    (root / "main.py").write_text(textwrap.dedent(MAIN))
    monkeypatch.chdir(root)
    config = root / ".crunchdao" / "project.json"  # offline: no hub to ask anything
    config.write_text(
        json.dumps({**json.loads(config.read_text()), "apiBaseUrl": "http://127.0.0.1:9"})
    )

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "data sealed" in result.stdout
    assert "not scored: needs y_test.json, which only the hub has" in result.stdout
    assert json.loads((root / "prediction" / "prediction.json").read_text()) == [4, 6, 8]


def test_crunch_test_refuses_a_module_changed_since_it_was_downloaded(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    create(hub, *competition_folders)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))
    assert crunch("--api-base-url", hub.url, "setup", NAME, "alpha").exit_code == 0
    root = tmp_path / f"{NAME}-alpha"
    (root / "main.py").write_text(textwrap.dedent(MAIN))
    with open(root / ".crunchdao" / "modules" / "runner.py", "a") as file:
        file.write("\nimport os; os.system('echo owned')\n")
    monkeypatch.chdir(root)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: .crunchdao/modules/runner.py is missing or changed since it was downloaded" in (
        result.stderr
    )


def test_modules_come_from_the_competitions_source_when_given(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    create(hub, *competition_folders)
    mirror = tmp_path / "mirror"
    (mirror / "competitions" / NAME / "scoring").mkdir(parents=True)
    own = "def run(context):\n    pass\n\n\ndef execute():\n    return {}\n"
    (mirror / "competitions" / NAME / "scoring" / "runner.py").write_text(own)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))

    result = crunch(
        "--api-base-url", hub.url, "--competitions", f"local://{mirror}", "setup", NAME, "alpha"
    )

    assert result.exit_code == 0, result.output
    modules = tmp_path / f"{NAME}-alpha" / ".crunchdao" / "modules"
    assert (modules / "runner.py").read_text() == own
    assert not (modules / "scoring.py").exists()


def test_an_unreachable_competitions_source_is_one_error(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    create(hub, *competition_folders)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))
    assert crunch("--api-base-url", hub.url, "setup", NAME, "alpha", "--no-data").exit_code == 0
    monkeypatch.chdir(tmp_path / f"{NAME}-alpha")

    result = crunch("--competitions", "cache+http://127.0.0.1:9", "download")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not load runner.py of modular: ")
    assert "hint: check your connection" in result.stderr


def test_a_hub_run_uses_the_modules_scores_every_metric_and_ranks_by_the_first(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    create(hub, *competition_folders)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))
    assert crunch("--api-base-url", hub.url, "setup", NAME, "alpha").exit_code == 0
    root = tmp_path / f"{NAME}-alpha"
    (root / "main.py").write_text(textwrap.dedent(MAIN))
    (root / "requirements.txt").write_text("")
    monkeypatch.chdir(root)

    pushed = crunch("push", "-m", "modules", "--wait")

    assert pushed.exit_code == 0, pushed.output
    assert re.search(r"^run 1 succeeded: accuracy 0\.6667$", pushed.stdout, re.MULTILINE)
    shown = json.loads(crunch("run", "show", "1", "--json").stdout)
    assert [(m["name"], m["value"]) for m in shown["metrics"]] == [
        ("accuracy", pytest.approx(2 / 3)),
        ("error-count", 1.0),
    ]
    assert shown["metrics"][0]["details"] == [{"key": "first", "value": 1.0, "reduced": False}]
    assert set(shown["modules"]) == {"runner", "scoring"}
    logs = crunch("run", "logs", "1").output
    assert "data sealed" in logs
    assert "score: accuracy 0.666667 on y first=1.0" in logs
    board = json.loads(crunch("leaderboard", "--json").stdout)
    assert board["metric"] == "accuracy"
    assert board["entries"][0]["score"] == pytest.approx(2 / 3)
    human = crunch("run", "show", "1").stdout
    assert "y / accuracy: 0.666" in human and "first=1.0" in human
    page = requests.get(f"{hub.url}/competitions/{NAME}/projects/alice/alpha/runs/1").text
    assert "y / accuracy</th><td>0.6667" in page
    assert "first=1.0" in page


def test_a_hub_run_whose_check_fails_shows_the_organizers_message(
    hub, crunch, tmp_path, monkeypatch, competition_folders
):
    data, modules = competition_folders
    (data / "hidden" / "y_test.json").write_text(json.dumps([4, 6, 9, 12]))
    create(hub, data, modules)
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(NAME, "alice", "alpha"))
    assert crunch("--api-base-url", hub.url, "setup", NAME, "alpha").exit_code == 0
    root = tmp_path / f"{NAME}-alpha"
    (root / "main.py").write_text(textwrap.dedent(MAIN))
    (root / "requirements.txt").write_text("")
    monkeypatch.chdir(root)

    pushed = crunch("push", "-m", "modules", "--wait")

    assert pushed.exit_code == 1
    shown = json.loads(crunch("run", "show", "1", "--json").stdout)
    assert shown["errorMessage"] == "expected 4 predictions, got 3"
    assert shown["metrics"] == []


def test_an_organizer_tries_the_scoring_module_on_local_folders(
    hub, crunch, tmp_path, competition_folders
):
    create(hub, *competition_folders)
    data = competition_folders[0] / "hidden"
    predictions = tmp_path / "predictions"
    predictions.mkdir()
    (predictions / "prediction.json").write_text(json.dumps([4, 6, 8]))

    scored = crunch(
        "--api-base-url", hub.url, "organizer", NAME, "test", "scoring", "score",
        "--data-directory", str(data), "--prediction-directory", str(predictions),
    )  # fmt: skip
    (predictions / "prediction.json").write_text(json.dumps([4]))
    checked = crunch(
        "--api-base-url", hub.url, "organizer", NAME, "test", "scoring", "check",
        "--data-directory", str(data), "--prediction-directory", str(predictions),
    )  # fmt: skip

    assert scored.exit_code == 0, scored.output
    assert (
        f"organizer: loading scoring code from {hub.url}/competitions/{NAME}/scoring/scoring.py"
        in (scored.stdout)
    )
    assert "Prediction is scorable!" in scored.stdout
    assert "accuracy" in scored.stdout and "0.6666666666666666" in scored.stdout
    assert "first=1.0" in scored.stdout
    assert checked.exit_code == 1
    assert "Prediction is not valid: expected 3 predictions, got 1" in checked.stdout
