"""`crunch setup`, `download`, `update-token`, `setup-command`, `ping`, `list` against a real
hub."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

import requests

COMPETITION = "demo-timeseries"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def release_files(workspace: Path) -> dict[str, dict]:
    cache = json.loads((workspace / ".crunchdao" / "competition.json").read_text())
    return cache["dataRelease"]["dataFiles"]


def test_setup_creates_a_workspace_with_verified_data(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", token)

    assert result.exit_code == 0, result.output
    root = tmp_path / f"{COMPETITION}-alpha"
    assert f"Workspace ready in {COMPETITION}-alpha" in result.stdout
    project = json.loads((root / ".crunchdao" / "project.json").read_text())
    assert project["competitionName"] == COMPETITION
    assert project["projectName"] == "alpha"
    assert project["apiBaseUrl"] == hub.url
    assert (root / "resources").is_dir()
    files = release_files(root)
    assert {"X_train", "y_train", "X_test", "example_prediction"} <= files.keys()
    for entry in files.values():
        assert sha256(root / "data" / entry["name"]) == entry["sha256"]
        assert "url" not in entry
    assert not list((root / "data").glob(".*.part"))


def test_setup_keeps_the_token_private_and_never_prints_it(hub, crunch, tmp_path):
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch(
        "--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", setup_token
    )

    token_file = tmp_path / f"{COMPETITION}-alpha" / ".crunchdao" / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    project_token = token_file.read_text().strip()
    assert len(project_token) >= 22
    assert project_token not in result.output
    assert setup_token not in result.output


def test_setup_refuses_a_reused_token_and_creates_nothing(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    first = crunch(
        "--api-base-url", hub.url, "setup", COMPETITION, "alpha", "one", "--token", token
    )
    assert first.exit_code == 0, first.output

    again = crunch(
        "--api-base-url", hub.url, "setup", COMPETITION, "alpha", "two", "--token", token
    )

    assert again.exit_code == 1
    assert again.stderr.startswith("error: the setup token is invalid, already used or expired\n")
    assert "hint: a setup token works once, within 3 minutes" in again.stderr
    assert "Traceback" not in again.output
    assert token not in again.output
    assert not (tmp_path / "two").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["one"]


def test_setup_refuses_a_token_of_another_project_and_does_not_spend_it(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    refused = crunch("--api-base-url", hub.url, "setup", COMPETITION, "beta", "--token", token)

    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "error: this setup token is for project 'alpha' of competition 'demo-timeseries'; "
        "it was not used\n"
    )
    assert token not in refused.output
    assert list(tmp_path.iterdir()) == []
    right = crunch(
        "--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--no-data", "--token", token
    )
    assert right.exit_code == 0, right.output


def test_setup_reads_the_token_from_standard_input(hub, run_crunch, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = run_crunch(
        "--api-base-url",
        hub.url,
        "setup",
        COMPETITION,
        "alpha",
        "--no-data",
        "--token",
        "-",
        input=f"{token}\n",
    )

    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{COMPETITION}-alpha" / ".crunchdao" / "token").is_file()


def test_setup_reads_the_token_from_the_environment(hub, crunch, monkeypatch, tmp_path):
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(COMPETITION, "alice", "alpha"))

    result = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--no-data")

    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{COMPETITION}-alpha" / ".crunchdao" / "token").is_file()


def test_setup_without_a_token_says_how_to_give_one(hub, crunch, monkeypatch, tmp_path):
    monkeypatch.delenv("CRUNCH_SETUP_TOKEN", raising=False)

    missing = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha")
    empty = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", "-")

    assert missing.exit_code == 1
    assert missing.stderr == (
        "error: no setup token given\n"
        "hint: pass --token - and paste it when asked, or set CRUNCH_SETUP_TOKEN\n"
    )
    assert empty.exit_code == 1
    assert "error: --token - found no token on standard input" in empty.stderr
    assert list(tmp_path.iterdir()) == []


def test_setup_refuses_an_expired_token(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    hub.expire_setup_tokens()

    result = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", token)

    assert result.exit_code == 1
    assert "error: the setup token is invalid, already used or expired" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_setup_refuses_a_non_empty_folder_without_force(hub, crunch, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    refused = crunch(
        "--api-base-url", hub.url, "setup", COMPETITION, "alpha", "mine", "--token", token
    )

    assert refused.exit_code == 1
    assert f"error: {tmp_path / 'mine'} is not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert sorted(path.name for path in (tmp_path / "mine").iterdir()) == ["notes.txt"]

    # The refusal happened before the token was spent: it still works with --force.
    forced = crunch(
        "--api-base-url",
        hub.url,
        "setup",
        COMPETITION,
        "alpha",
        "mine",
        "--token",
        token,
        "--force",
    )

    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "mine" / ".crunchdao" / "token").is_file()


def test_setup_of_an_unknown_competition_names_it_and_keeps_the_token(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch("--api-base-url", hub.url, "setup", "no-such-thing", "alpha", "--token", token)

    assert result.exit_code == 1
    assert "no-such-thing" in result.stderr.splitlines()[0]
    assert "hint: run `crunch list`" in result.stderr
    assert list(tmp_path.iterdir()) == []
    ok = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", token)
    assert ok.exit_code == 0, ok.output


def test_setup_without_data_makes_the_workspace_only(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch(
        "--api-base-url",
        hub.url,
        "setup",
        COMPETITION,
        "alpha",
        "ws",
        "--token",
        token,
        "--no-data",
    )

    assert result.exit_code == 0, result.output
    assert list((tmp_path / "ws" / "data").iterdir()) == []


def test_unreachable_hub_is_one_line_with_a_hint(crunch, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    result = crunch("--api-base-url", url, "setup", COMPETITION, "alpha", "--token", "x" * 30)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot reach the hub at {url}: connection refused",
        "hint: check --api-base-url (or CRUNCH_API_BASE_URL) and that the hub is running",
    ]
    assert list(tmp_path.iterdir()) == []


def test_download_outside_a_workspace_says_where_to_go(crunch, tmp_path):
    result = crunch("download")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"error: {tmp_path.resolve()} is not inside a crunch workspace"
        " (no .crunchdao/ folder found)"
    )
    assert "Traceback" not in result.output


def test_download_from_a_subfolder_skips_files_that_are_up_to_date(workspace, crunch, monkeypatch):
    before = {path.name: path.stat().st_ino for path in (workspace / "data").iterdir()}
    monkeypatch.chdir(workspace / "resources")

    result = crunch("download")

    assert result.exit_code == 0, result.output
    assert f"({0} downloaded, {len(before)} already up to date)" in result.stdout
    after = {path.name: path.stat().st_ino for path in (workspace / "data").iterdir()}
    assert after == before


def test_download_refetches_a_corrupted_local_file(workspace, crunch, monkeypatch):
    monkeypatch.chdir(workspace)
    target = workspace / "data" / "X_train.parquet"
    expected = sha256(target)
    target.write_bytes(b"not parquet at all")

    result = crunch("download")

    assert result.exit_code == 0, result.output
    assert "(1 downloaded," in result.stdout
    assert sha256(target) == expected


def test_download_resumes_after_the_connection_drops(hub, crunch, tmp_path, dropping_proxy):
    proxy = dropping_proxy(drop_after=100_000, drops=2)
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch("--api-base-url", proxy.url, "setup", COMPETITION, "alpha", "--token", token)

    assert result.exit_code == 0, result.output
    root = tmp_path / f"{COMPETITION}-alpha"
    for entry in release_files(root).values():
        assert sha256(root / "data" / entry["name"]) == entry["sha256"]
    resumed = [request for request in proxy.blob_requests() if "Range: bytes=" in request]
    assert len(resumed) == 2
    assert proxy.drops_left == 0


def test_download_resumes_a_partial_file_left_by_a_killed_run(
    workspace, crunch, hub, monkeypatch, dropping_proxy
):
    monkeypatch.chdir(workspace)
    target = workspace / "data" / "X_train.parquet"
    content = target.read_bytes()
    target.unlink()
    (workspace / "data" / ".X_train.parquet.part").write_bytes(content[: len(content) // 2])
    proxy = dropping_proxy(drop_after=10**12)

    result = crunch("--api-base-url", proxy.url, "download")

    assert result.exit_code == 0, result.output
    assert "X_train.parquet: resuming at" in result.stderr
    assert target.read_bytes() == content
    [request] = proxy.blob_requests()
    assert f"Range: bytes={len(content) // 2}-" in request
    assert not (workspace / "data" / ".X_train.parquet.part").exists()


def test_download_replaces_a_damaged_partial_file(workspace, crunch, monkeypatch):
    monkeypatch.chdir(workspace)
    target = workspace / "data" / "y_train.parquet"
    content = target.read_bytes()
    target.unlink()
    (workspace / "data" / ".y_train.parquet.part").write_bytes(b"\0" * (len(content) // 2))

    result = crunch("download")

    assert result.exit_code == 0, result.output
    assert target.read_bytes() == content


def test_download_of_bytes_that_do_not_match_the_hub_checksum_fails_clearly(
    workspace, crunch, hub, monkeypatch
):
    monkeypatch.chdir(workspace)
    (workspace / "data" / "X_test.parquet").unlink()
    hub.corrupt_data_file(COMPETITION, "X_test")

    result = crunch("download")

    assert result.exit_code == 1
    assert "\nerror: X_test.parquet arrived corrupted: sha256 " in result.stderr
    assert "hint: run `crunch download` again" in result.stderr
    assert not (workspace / "data" / "X_test.parquet").exists()
    assert not (workspace / "data" / ".X_test.parquet.part").exists()


def me(hub, token: str) -> requests.Response:
    return requests.get(
        f"{hub.url}/v2/users/@me", headers={"Authorization": f"Project-Token {token}"}, timeout=10
    )


def test_update_token_replaces_the_project_token_and_revokes_the_old_one(
    workspace, crunch, hub, monkeypatch
):
    monkeypatch.chdir(workspace)
    token_file = workspace / ".crunchdao" / "token"
    old = token_file.read_text()
    setup_token = hub.mint_token(COMPETITION, "alice", "alpha")

    result = crunch("update-token", "--token", "-", input=setup_token + "\n")

    assert result.exit_code == 0, result.output
    new = token_file.read_text()
    assert new != old
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert setup_token not in result.output
    assert crunch("download").exit_code == 0
    assert me(hub, new).status_code == 200
    refused = me(hub, old)
    assert (refused.status_code, refused.json()["code"]) == (401, "INVALID_PROJECT_TOKEN")


def test_update_token_works_when_the_old_token_has_expired(workspace, crunch, hub, monkeypatch):
    from sqlalchemy import update

    from crunch_cli.hub.models import ProjectToken, utcnow
    from crunch_cli.hub.store import HubStore

    monkeypatch.chdir(workspace)
    with HubStore(hub.settings) as store, store.session() as session:
        session.execute(update(ProjectToken).values(valid_until=utcnow()))
    expired = crunch("download")
    assert expired.exit_code == 1
    assert "hint: run `crunch update-token`" in expired.stderr

    result = crunch("update-token", hub.mint_token(COMPETITION, "alice", "alpha"))

    assert result.exit_code == 0, result.output
    assert crunch("download").exit_code == 0


def test_update_token_without_a_terminal_or_a_token_says_how_to_pass_it(workspace, crunch, hub):
    token_file = workspace / ".crunchdao" / "token"
    old = token_file.read_text()

    missing = crunch("update-token")
    given = crunch("update-token", "--token", hub.mint_token(COMPETITION, "alice", "alpha"))

    assert missing.exit_code == 1
    assert missing.stderr.splitlines() == [
        "error: no setup token given, and no terminal to ask for it",
        "hint: pass it as `--token TOKEN`, or `--token -` with the token on standard input "
        "(`echo TOKEN | crunch update-token --token -`); CRUNCH_SETUP_TOKEN works too",
    ]
    assert given.exit_code == 0, given.output
    assert token_file.read_text() != old


def test_update_token_refuses_a_token_of_another_project(workspace, crunch, hub, monkeypatch):
    monkeypatch.chdir(workspace)
    token_file = workspace / ".crunchdao" / "token"
    old = token_file.read_text()

    beta = hub.mint_token(COMPETITION, "bob", "beta")

    result = crunch("update-token", beta)

    assert result.exit_code == 1
    assert (
        "error: this setup token is for project 'beta' of competition 'demo-timeseries'; "
        "it was not used" in result.stderr
    )
    assert token_file.read_text() == old
    assert me(hub, old).status_code == 200
    upgraded = requests.post(f"{hub.url}/v2/project-tokens/upgrade", json={"cloneToken": beta})
    assert upgraded.status_code == 200, "the refused token must still work for its project"


def test_update_token_refuses_a_token_of_the_same_project_name_in_another_competition(
    workspace, crunch, hub, monkeypatch
):
    monkeypatch.chdir(workspace)
    token_file = workspace / ".crunchdao" / "token"
    old = token_file.read_text()

    result = crunch("update-token", hub.mint_token("demo-stream", "alice", "alpha"))

    assert result.exit_code == 1
    assert (
        "error: this setup token is for project 'alpha' of competition 'demo-stream'; "
        "it was not used" in result.stderr
    )
    assert token_file.read_text() == old
    assert me(hub, old).status_code == 200


def test_setup_command_sets_up_the_same_project_on_another_machine(
    workspace, crunch, hub, tmp_path, monkeypatch, parse_setup_line
):
    monkeypatch.chdir(workspace)
    project_token = (workspace / ".crunchdao" / "token").read_text()

    printed = crunch("setup-command")

    assert printed.exit_code == 0, printed.output
    assert project_token not in printed.output
    assert "It works once, until " in printed.stderr
    [line] = printed.stdout.splitlines()
    token, arguments = parse_setup_line(line)
    assert arguments[:5] == ["--api-base-url", hub.url, "setup", COMPETITION, "alpha"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    second = crunch(*arguments, "--no-data", input=token)
    assert second.exit_code == 0, second.output
    again = crunch(*arguments, "--no-data", "again", input=token)
    assert again.exit_code == 1
    assert "error: the setup token is invalid, already used or expired" in again.stderr
    second_root = elsewhere / f"{COMPETITION}-alpha"
    first_config = json.loads((workspace / ".crunchdao" / "project.json").read_text())
    second_config = json.loads((second_root / ".crunchdao" / "project.json").read_text())
    assert second_config == first_config
    second_token = (second_root / ".crunchdao" / "token").read_text()
    assert second_token != project_token
    assert me(hub, second_token).status_code == me(hub, project_token).status_code == 200


def test_setup_command_with_a_revoked_token_says_to_update_it(workspace, crunch, monkeypatch):
    monkeypatch.chdir(workspace)
    (workspace / ".crunchdao" / "token").write_text("not-a-real-token-" * 3)

    result = crunch("setup-command")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "hint: run `crunch update-token`" in result.stderr


def test_a_revoked_token_gets_a_hint_to_update_it(workspace, crunch, hub, monkeypatch):
    monkeypatch.chdir(workspace)
    (workspace / ".crunchdao" / "token").write_text("not-a-real-token-" * 3)

    result = crunch("download")

    assert result.exit_code == 1
    assert "hint: run `crunch update-token`" in result.stderr
    assert "not-a-real-token" not in result.output


def test_ping_and_list(hub, crunch):
    ping = crunch("--api-base-url", hub.url, "ping")
    listing = crunch("--api-base-url", hub.url, "list", "--json")

    assert ping.exit_code == 0
    assert ping.stdout.startswith(f"{hub.url} answered in ")
    names = {competition["name"] for competition in json.loads(listing.stdout)}
    assert {"demo-timeseries", "demo-cross-sectional", "demo-stream"} <= names


def test_ping_fails_when_the_hub_is_down(crunch):
    result = crunch("--api-base-url", "http://127.0.0.1:9", "ping")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach the hub at http://127.0.0.1:9")


def test_help_imports_no_heavy_module():
    import subprocess

    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from crunch_cli.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "heavy = ('pandas', 'pyarrow', 'numpy', 'nbformat', 'requests', 'fastapi',\n"
        "         'sqlalchemy', 'uvicorn', 'psutil', 'yaml')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == ""


def test_a_workspace_made_by_the_public_client_works_with_ours(hub, crunch, tmp_path):
    """The public crunch-cli records no hub URL and a sizeVariant in capitals."""
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    made = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", token)
    assert made.exit_code == 0, made.output
    root = tmp_path / f"{COMPETITION}-alpha"
    project = root / ".crunchdao" / "project.json"
    config = json.loads(project.read_text())
    project.write_text(
        json.dumps(
            {
                **{k: config[k] for k in ("competitionName", "projectName", "userId")},
                "sizeVariant": "DEFAULT",
            }
        )
    )
    (root / "data" / "y_train.parquet").unlink()
    os.chdir(root)

    result = crunch("--api-base-url", hub.url, "download")

    assert result.exit_code == 0, result.output
    assert "(1 downloaded," in result.stdout


def test_the_token_file_holds_the_token_alone(workspace):
    content = (workspace / ".crunchdao" / "token").read_bytes()

    assert content == content.strip()
