"""Options spelled as crunch-cli 13.0.1 spells them, and its workspaces, against a real hub."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import crunch_cli

COMPETITION = "demo-timeseries"
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


def write_quickstarter(workspace: Path) -> None:
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)


def test_setup_fills_the_directory_placeholders_and_restores_nothing_from_scratch(
    hub, crunch, workspace, tmp_path
):
    write_quickstarter(workspace)
    assert crunch("push").exit_code == 0
    os.chdir(tmp_path)
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch(
        "--api-base-url", hub.url, "--hide-tips", "setup", COMPETITION, "alpha",
        "x/{projectName}@{competitionName}", "--token", token,
        "--submission", "scratch", "--no-data", "-f",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    root = tmp_path / "x" / f"alpha@{COMPETITION}"
    assert (root / ".crunchdao" / "project.json").is_file()
    assert "Restored" not in result.stdout and "Next:" not in result.stdout
    assert not (root / "main.py").exists()


def test_setup_refuses_a_submission_that_is_not_latest_scratch_or_a_number(hub, crunch):
    result = crunch("setup", COMPETITION, "alpha", "--token", "x", "--submission", "last")

    assert result.exit_code == 2
    assert "latest, scratch or a submission number" in result.stderr


def test_a_workspace_made_by_crunch_cli_13_finds_its_hub_in_its_env_file(hub, crunch, workspace):
    project = workspace / ".crunchdao" / "project.json"
    config = json.loads(project.read_text())
    del config["apiBaseUrl"]  # what crunch-cli 13.0.1 writes: no hub
    project.write_text(json.dumps(config))
    (workspace / ".env").write_text(f"CRUNCH_API_BASE_URL={hub.url}\n")

    result = crunch("status")

    assert result.exit_code == 0, result.output
    assert f"hub          {hub.url}" in result.stdout


def test_environment_picks_the_hub_unless_api_base_url_is_given(hub, crunch, workspace):
    local = crunch("--env", "local", "ping")
    explicit = crunch("--env", "local", "--api-base-url", hub.url, "ping")
    unknown = crunch("--environment", "moon", "ping")

    assert local.exit_code == 1 and "127.0.0.1:8000" in local.stderr
    assert explicit.exit_code == 0, explicit.output
    assert unknown.exit_code == 2 and "production (prod)" in unknown.stderr


def test_download_takes_size_variant_and_only_the_current_round(crunch, workspace):
    current = crunch("download", "--size-variant", "default", "--round-number", "@current")
    other = crunch("download", "--round-number", "99")

    assert current.exit_code == 0, current.output
    assert other.exit_code == 1
    assert "round 99 has no data to use" in other.stderr


def test_test_warns_about_a_library_the_hub_does_not_allow(crunch, workspace):
    write_quickstarter(workspace)
    (workspace / "requirements.txt").write_text("pandas\nnot-a-real-library-xyz\n")

    checked = crunch("test", "--no-determinism-check", "--no-checks", "--round-number", "@current")
    skipped = crunch("test", "--skip-library-check", "--no-checks")

    assert "not-a-real-library-xyz (requirements.txt) is not allowed" in checked.stderr
    assert "not-a-real-library-xyz" not in skipped.stderr


def test_test_skips_the_library_check_with_a_warning_when_the_hub_is_away(crunch, workspace):
    write_quickstarter(workspace)
    result = crunch("--api-base-url", "http://127.0.0.1:9", "test", "--no-checks")

    assert "warning: library check skipped: cannot reach the hub" in result.stderr


def test_push_dry_refuses_what_the_push_would(crunch, workspace):
    write_quickstarter(workspace)
    (workspace / "requirements.txt").write_text("not-a-real-library-xyz\n")

    result = crunch("push", "--dry", "--no-pip-freeze", "--model-directory", "resources")

    assert result.exit_code == 1
    assert "not allowed on this competition: not-a-real-library-xyz" in result.stderr


def test_convert_takes_the_public_client_spellings(crunch, tmp_path: Path):
    notebook = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": ["import pandas\n"],
                   "outputs": [], "execution_count": None}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4,
    }  # fmt: skip
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "main.py").write_text("old\n")

    result = crunch(
        "convert", "nb.ipynb", "--overwrite", "--requirements", "--no-freeze", "--verbose"
    )

    assert result.exit_code == 0, result.output
    assert "requirement: pandas" in result.stdout
    assert "import pandas" in (tmp_path / "main.py").read_text()
