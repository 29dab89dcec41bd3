"""The deployment's signing key (`crunch hub serve --secret-file`): every hub given the same
file signs alike, the root keeps a private copy for the organizer's commands, and a file
unfit to be a key stops the hub with one error and hint, never showing its content.
"""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest

from crunch_cli.hub import HubSettings
from crunch_cli.hub.store import HubStore


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "hub-key"
    path.parent.mkdir()
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


def serve(run_crunch, root: Path, *options: str):
    return run_crunch("hub", "serve", "--port", "0", "--root", str(root), *options)


def test_two_roots_given_one_key_file_sign_alike_and_keep_a_private_copy(key_file, tmp_path):
    machines = [HubSettings(tmp_path / name, secret_file=key_file) for name in ("a", "b")]

    with HubStore(machines[0]) as store_a, HubStore(machines[1]) as store_b:
        keys = {store_a.secret, store_b.secret}
    organizer = HubSettings(tmp_path / "b")  # `crunch hub ...` on machine B: no option

    assert keys == {key_file.read_bytes().strip()}
    for settings in machines:
        assert settings.exists
        assert stat.S_IMODE(settings.secret_path.stat().st_mode) == 0o600
    with HubStore(organizer) as store:
        assert store.secret == key_file.read_bytes().strip()


def test_a_root_with_a_key_of_its_own_takes_the_deployment_key_when_given_one(key_file, tmp_path):
    root = tmp_path / "hub"
    with HubStore(HubSettings(root)) as alone:
        own = alone.secret

    with HubStore(HubSettings(root, secret_file=key_file)) as deployed:
        shared = deployed.secret

    assert own != shared == key_file.read_bytes().strip()


def test_serve_refuses_a_key_file_other_users_may_read(key_file, run_crunch, tmp_path):
    key_file.chmod(0o644)

    done = serve(run_crunch, tmp_path / "hub", "--secret-file", str(key_file))

    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        f"error: other users may read or change the hub's key file {key_file} (mode 0644)",
        f"hint: chmod 600 {key_file} (a group of the hub's user may read it: chmod 640)",
    ]


def test_serve_refuses_a_key_file_that_does_not_exist(run_crunch, tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "hub-key"
    monkeypatch.setenv("CRUNCH_HUB_SECRET_FILE", str(missing))

    done = serve(run_crunch, tmp_path / "hub")

    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        f"error: the hub's key file {missing} does not exist",
        f"hint: make it once with `(umask 077; openssl rand -hex 32 > {missing})` and give "
        "every hub of the deployment that file",
    ]


def test_serve_refuses_a_short_key_without_showing_it(key_file, run_crunch, tmp_path):
    key_file.write_text("hunter2-is-not-a-key\n")

    done = serve(run_crunch, tmp_path / "hub", "--secret-file", str(key_file))

    assert done.exit_code == 1
    assert done.stderr.splitlines()[0] == (
        f"error: the hub's key file {key_file} holds 20 bytes; a key needs at least 32"
    )
    assert "hunter2" not in done.output
