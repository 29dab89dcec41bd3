"""`crunch init` and `crunch setup-notebook` (crunch-cli 13.0.1's names) against a real hub:
the same setup as `crunch setup`, one without a submission, one in the notebook's folder."""

from __future__ import annotations

import json
from pathlib import Path

COMPETITION = "demo-timeseries"
LAST_SUBMISSION = b"def train():\n    pass\n"


def project_json(root: Path) -> dict:
    return json.loads((root / ".crunchdao" / "project.json").read_text())


def test_init_makes_a_workspace_without_restoring_the_last_submission(
    hub, crunch, caller, tmp_path
):
    assert caller.submit({"main.py": LAST_SUBMISSION}).status_code == 200
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch("--api-base-url", hub.url, "init", COMPETITION, "alpha", "--token", token)

    assert result.exit_code == 0, result.output
    root = tmp_path / f"{COMPETITION}-alpha"
    assert f"Workspace ready in {COMPETITION}-alpha" in result.stdout
    assert "Restored" not in result.stdout
    assert project_json(root)["projectName"] == "alpha"
    assert not (root / "main.py").exists()
    assert (root / "resources").is_dir()
    assert any((root / "data").iterdir())
    assert token not in result.output


def test_init_reads_the_token_from_standard_input_and_the_environment(
    hub, crunch, monkeypatch, tmp_path
):
    piped = crunch(
        "--api-base-url",
        hub.url,
        *("init", COMPETITION, "alpha", "one", "--no-data", "--token", "-"),
        input=hub.mint_token(COMPETITION, "alice", "alpha") + "\n",
    )
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(COMPETITION, "alice", "alpha"))
    from_environment = crunch("--api-base-url", hub.url, "init", COMPETITION, "alpha", "two")

    assert piped.exit_code == 0, piped.output
    assert from_environment.exit_code == 0, from_environment.output
    assert (tmp_path / "one" / ".crunchdao" / "token").is_file()
    assert (tmp_path / "two" / ".crunchdao" / "token").is_file()


def test_init_refuses_a_non_empty_folder_without_force_and_keeps_the_token(hub, crunch, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    command = ("--api-base-url", hub.url, "init", COMPETITION, "alpha", "mine", "--no-data")

    refused = crunch(*command, "--token", token)
    forced = crunch(*command, "--token", token, "-f")

    assert refused.exit_code == 1
    assert f"error: {tmp_path / 'mine'} is not empty" in refused.stderr
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "mine" / ".crunchdao" / "token").is_file()


def test_setup_notebook_sets_up_the_current_folder_and_keeps_its_files(
    hub, crunch, caller, tmp_path
):
    assert caller.submit({"main.py": LAST_SUBMISSION, "helper.py": b"X = 1\n"}).status_code == 200
    (tmp_path / "notebook.ipynb").write_text("{}")
    (tmp_path / "main.py").write_text("mine\n")

    result = crunch(
        "--api-base-url",
        hub.url,
        "setup-notebook",
        COMPETITION,
        hub.mint_token(COMPETITION, "alice", "alpha"),
    )

    assert result.exit_code == 0, result.output
    assert "Workspace ready in ." in result.stdout
    assert "Kept your local version of: main.py" in result.stdout
    assert "crunch.load_notebook()" in result.stdout
    assert project_json(tmp_path)["projectName"] == "alpha"
    assert (tmp_path / "notebook.ipynb").read_text() == "{}"
    assert (tmp_path / "main.py").read_text() == "mine\n"
    assert (tmp_path / "helper.py").read_bytes() == b"X = 1\n"
    assert any((tmp_path / "data").iterdir())


def test_setup_notebook_run_again_replaces_the_token_and_keeps_the_data(hub, crunch, tmp_path):
    command = ("--api-base-url", hub.url, "setup-notebook", COMPETITION)
    first = crunch(*command, hub.mint_token(COMPETITION, "alice", "alpha"), "alpha")
    token_file = tmp_path / ".crunchdao" / "token"
    first_token = token_file.read_text()
    data = {path: path.stat().st_mtime_ns for path in (tmp_path / "data").iterdir()}

    again = crunch(*command, "-", "alpha", input=hub.mint_token(COMPETITION, "alice", "alpha"))

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert token_file.read_text() != first_token
    assert {path: path.stat().st_mtime_ns for path in (tmp_path / "data").iterdir()} == data


def test_setup_notebook_refuses_a_token_of_another_project_unspent(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    command = ("--api-base-url", hub.url, "setup-notebook", COMPETITION, token)

    refused = crunch(*command, "beta", "--no-data")
    right = crunch(*command, "alpha", "--no-data")

    assert refused.exit_code == 1
    assert "this setup token is for project 'alpha'" in refused.stderr
    assert right.exit_code == 0, right.output


def test_api_key_sign_in_is_refused_before_anything_is_written(hub, crunch, tmp_path):
    notebook = crunch("--api-base-url", hub.url, "setup-notebook", COMPETITION, "@api-key", "a")
    init = crunch("--api-base-url", hub.url, "init", COMPETITION, "alpha", "--token", "@api-key")

    for result in (notebook, init):
        assert result.exit_code == 1
        assert result.stderr.startswith(
            "error: `@api-key` signs in with a notebook platform's CRUNCH_API_KEY secret, "
            "and this client and its hub have no API keys\n"
        )
        assert "hint: use a one-time setup token" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_setup_notebook_reads_the_token_from_the_environment(hub, crunch, monkeypatch, tmp_path):
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(COMPETITION, "alice", "alpha"))

    result = crunch("--api-base-url", hub.url, "setup-notebook", COMPETITION, "--no-data")

    assert result.exit_code == 0, result.output
    assert project_json(tmp_path)["projectName"] == "alpha"
