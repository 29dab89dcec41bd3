"""The public `crunch-cli` against our hub: setup, download and push, and the same
submissions seen through our own client."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from crunch_cli.api import HubClient

pytestmark = pytest.mark.slow

COMPETITION = "demo-timeseries"

MAIN = """\
import pandas


def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=0.0)
"""
MODEL = bytes(range(256)) * 64


def set_up(
    cli,
    hub,
    cwd: Path,
    *options: str,
    competition: str = COMPETITION,
    user: str = "alice",
    project: str = "alpha",
) -> Path:
    cwd.mkdir(parents=True, exist_ok=True)
    token = hub.mint_token(competition, user, project)
    cli.ok("setup", "--token", token, *options, competition, project, "ws", cwd=cwd)
    return cwd / "ws"


def client_for(hub, workspace: Path) -> tuple[HubClient, dict]:
    """Our client with the token the workspace holds, and the project it points at."""
    metadata = workspace / ".crunchdao"
    project = json.loads((metadata / "project.json").read_text())
    return HubClient(hub.url, (metadata / "token").read_text().strip()), project


def submitted_files(hub, workspace: Path, number: int) -> dict[str, bytes]:
    """Every file of a submission, fetched through the hub's signed links."""
    client, project = client_for(hub, workspace)
    bound = client.project(project["competitionName"], project["userId"], project["projectName"])
    links = bound.clone(submission_number=number, include_model=True)
    return {path: client.send("GET", url, auth=False).content for path, url in links.items()}


def write_submission(workspace: Path, requirements: str = "pandas\n"):
    (workspace / "main.py").write_text(MAIN)
    (workspace / "requirements.txt").write_text(requirements)
    (workspace / "resources").mkdir(exist_ok=True)
    (workspace / "resources" / "model.bin").write_bytes(MODEL)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("competition", ["demo-timeseries", "demo-cross-sectional", "demo-stream"])
def test_public_client_setup_downloads_every_data_file_with_its_sha256(
    public_crunch, hub, tmp_path, competition
):
    workspace = set_up(public_crunch, hub, tmp_path, competition=competition)

    client, project = client_for(hub, workspace)
    assert project["competitionName"] == competition
    assert project["userId"] == client.me()["id"]
    round_number = client.current_round(competition)["number"]
    release = client.data_release(competition, round_number)
    expected = {item["name"]: item["sha256"] for item in release["dataFiles"].values()}
    assert {path.name: sha256(path) for path in (workspace / "data").iterdir()} == expected


def test_public_client_download_brings_back_a_deleted_data_file(public_crunch, hub, tmp_path):
    workspace = set_up(public_crunch, hub, tmp_path)
    y_train = workspace / "data" / "y_train.parquet"
    digest = sha256(y_train)
    y_train.unlink()

    public_crunch.ok("download", cwd=workspace)

    assert sha256(y_train) == digest


def test_public_client_push_creates_a_submission_with_its_code_and_model(
    public_crunch, hub, tmp_path
):
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")
    write_submission(workspace)

    done = public_crunch.ok("push", "-m", "first", cwd=workspace)

    assert "submission #1 succesfully uploaded!" in done.stdout
    client, project = client_for(hub, workspace)
    [submission] = client.project(COMPETITION, project["userId"], "alpha").submissions()
    assert (submission["number"], submission["message"]) == (1, "first")
    files = submitted_files(hub, workspace, 1)
    assert files["main.py"] == MAIN.encode()
    assert files["resources/model.bin"] == MODEL
    assert b"pandas" in files["requirements.txt"]


def test_public_client_pushes_through_a_base_url_ending_with_a_slash(public_crunch, hub, tmp_path):
    """Its whitelist look-up then asks for `//v2/libraries`, which must still be found."""
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")
    write_submission(workspace)
    slashed = dataclasses.replace(
        public_crunch,
        argv=tuple(arg + "/" if arg == hub.url else arg for arg in public_crunch.argv),
    )

    done = slashed.ok("push", "-m", "slashed", cwd=workspace)

    assert "submission #1 succesfully uploaded!" in done.stdout


def test_public_client_second_push_reuses_its_uploaded_files(public_crunch, hub, tmp_path):
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")
    write_submission(workspace)
    public_crunch.ok("push", "-m", "first", cwd=workspace)

    done = public_crunch.ok("push", "-m", "again", cwd=workspace)

    assert "reused cached model file: model.bin" in done.stdout
    assert "submission #2 succesfully uploaded!" in done.stdout
    assert submitted_files(hub, workspace, 2) == submitted_files(hub, workspace, 1)


def test_public_client_setup_restores_its_last_submission(public_crunch, hub, tmp_path):
    first = set_up(public_crunch, hub, tmp_path / "first", "--no-data")
    write_submission(first)
    public_crunch.ok("push", "-m", "first", cwd=first)

    second = set_up(public_crunch, hub, tmp_path / "second", "--no-data")

    assert (second / "main.py").read_text() == MAIN
    assert (second / "resources" / "model.bin").read_bytes() == MODEL


def test_our_setup_restores_a_submission_pushed_by_the_public_client(
    public_crunch, our_crunch, hub, tmp_path
):
    theirs = set_up(public_crunch, hub, tmp_path / "theirs", "--no-data")
    write_submission(theirs)
    public_crunch.ok("push", "-m", "from the public client", cwd=theirs)

    ours = set_up(our_crunch, hub, tmp_path / "ours", "--no-data", "--include-model")

    assert (ours / "main.py").read_text() == MAIN
    assert (ours / "resources" / "model.bin").read_bytes() == MODEL


def test_public_client_setup_restores_a_submission_pushed_by_our_cli(
    public_crunch, our_crunch, hub, tmp_path
):
    ours = set_up(our_crunch, hub, tmp_path / "ours", "--no-data")
    write_submission(ours)
    our_crunch.ok("push", "-m", "from our client", cwd=ours)

    theirs = set_up(public_crunch, hub, tmp_path / "theirs", "--no-data")

    assert (theirs / "main.py").read_text() == MAIN
    assert (theirs / "resources" / "model.bin").read_bytes() == MODEL


def test_public_client_refuses_a_setup_token_used_twice(public_crunch, hub, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    public_crunch.ok(
        "setup", "--token", token, "--no-data", COMPETITION, "alpha", "a", cwd=tmp_path
    )

    done = public_crunch("setup", "--token", token, COMPETITION, "alpha", "b", cwd=tmp_path)

    assert done.returncode == 1
    assert "Your token seems to have expired or is invalid." in done.stdout
    assert not (tmp_path / "b").exists()


def test_public_client_push_names_the_library_the_hub_does_not_allow(public_crunch, hub, tmp_path):
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")
    write_submission(workspace, requirements="pandas\nleftpad-unknown\n")

    done = public_crunch("push", "-m", "forbidden", cwd=workspace)

    assert done.returncode == 1
    assert "Forbidden packages has been found" in done.stdout
    assert "- leftpad-unknown" in done.stdout
    client, project = client_for(hub, workspace)
    assert client.project(COMPETITION, project["userId"], "alpha").submissions() == []


def test_both_clients_push_from_one_workspace_and_share_the_upload_cache(
    public_crunch, our_crunch, hub, tmp_path
):
    workspace = set_up(our_crunch, hub, tmp_path, "--no-data")
    write_submission(workspace)
    public_crunch.ok("push", "-m", "theirs first", cwd=workspace)

    ours = our_crunch.ok("push", "-m", "then ours", cwd=workspace)
    theirs = public_crunch.ok("push", "-m", "theirs again", cwd=workspace)

    assert "model.bin (16.4 KB): unchanged, not sent" in ours.stderr
    assert "reused cached model file: model.bin" in theirs.stdout
    assert submitted_files(hub, workspace, 3)["resources/model.bin"] == MODEL
