"""Two hubs on two machines (two root folders) serving the same competitions from one
PostgreSQL database and one S3 prefix, with one signing key: whatever a competitor or a
browser starts through one hub continues through the other, and only one machine at a time
sweeps the stored files.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import threading
from collections.abc import Container, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from hubs import Caller, Hub, make_caller, serve_hub

import crunch_cli
from crunch_cli.hub import HubSettings, signing
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.models import utcnow
from crunch_cli.hub.store import HubStore

pytestmark = [
    pytest.mark.parametrize("hub_database", ["postgresql"], indirect=True),
    pytest.mark.parametrize("hub_blob_store", ["s3"], indirect=True),
]

COMPETITION = "demo-timeseries"
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


@pytest.fixture
def deployment_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment's signing key, as an organizer makes it: 64 hex digits, mode 600."""
    path = tmp_path_factory.mktemp("secrets") / "hub-key"
    path.write_text(secrets.token_hex(32) + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def machine_settings(
    hub_root: Path,
    hub_database_url: str | None,
    hub_blob_options: dict[str, str],
    deployment_key: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[HubSettings, HubSettings]:
    """The settings of machine A (the root the demo competitions were made in) and of
    machine B (an empty root): one database, one prefix, one key file."""
    shared = {"database_url": hub_database_url, **hub_blob_options, "secret_file": deployment_key}
    machine_b = tmp_path_factory.mktemp("machine-b") / "root"
    return HubSettings(hub_root, **shared), HubSettings(machine_b, **shared)


@pytest.fixture
def two_hubs(machine_settings: tuple[HubSettings, HubSettings]) -> Iterator[tuple[Hub, Hub]]:
    a, b = machine_settings
    with serve_hub(a.root, **_options(a)) as hub_a, serve_hub(b.root, **_options(b)) as hub_b:
        yield hub_a, hub_b


def _options(settings: HubSettings) -> dict[str, object]:
    return {
        "database_url": settings.database_url,
        "blob_store": settings.blob_store,
        "s3_endpoint_url": settings.s3_endpoint_url,
        "secret_file": settings.secret_file,
    }


def same_project_on(hub: Hub, caller: Caller) -> Caller:
    """`caller`'s project and token, talking to `hub`."""
    return Caller(hub.url, caller.token, caller.user_id, caller.project, caller.competition)


def test_a_competitor_sets_up_through_one_hub_pushes_through_the_other_and_is_ranked(
    two_hubs, crunch, tmp_path
):
    hub_a, hub_b = two_hubs
    token = hub_b.mint_token(COMPETITION, "alice", "alpha")  # the organizer, on machine B

    set_up = crunch("--api-base-url", hub_a.url, "setup", COMPETITION, "alpha", "--token", token)
    workspace = tmp_path / f"{COMPETITION}-alpha"
    os.chdir(workspace)
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    pushed = crunch("--api-base-url", hub_b.url, "push", "-m", "through b", "--wait")
    listed = crunch("--api-base-url", hub_a.url, "submission", "list", "--json")
    shutil.rmtree(workspace / "data")
    downloaded = crunch("--api-base-url", hub_b.url, "download")
    board = crunch("--api-base-url", hub_a.url, "leaderboard", "--json")

    assert set_up.exit_code == 0, set_up.output
    assert pushed.exit_code == 0, pushed.output
    assert re.search(r"^run 1 succeeded: spearman ", pushed.stdout, re.MULTILINE), pushed.stdout
    assert [item["message"] for item in json.loads(listed.stdout)] == ["through b"]
    assert downloaded.exit_code == 0, downloaded.output
    assert (workspace / "data" / "X_train.parquet").is_file()
    [entry] = json.loads(board.stdout)["entries"]
    assert (entry["rank"], entry["projectName"]) == (1, "alpha")


def test_an_upload_started_through_one_hub_is_finished_through_the_other(two_hubs):
    hub_a, hub_b = two_hubs
    through_a = make_caller(hub_a)
    through_b = same_project_on(hub_b, through_a)
    main = b"def train():\n    pass\n\n\ndef infer():\n    pass\n" * 100

    upload = through_a.start_upload("main.py", len(main), chunk_size=2000)
    for number, (starts, confirms) in enumerate(
        [(through_b, through_a), (through_a, through_b), (through_b, through_b)], 1
    ):
        chunk = upload["chunks"][number - 1]
        data = main[chunk["offset"] : chunk["offset"] + chunk["size"]]
        put = starts.put_chunk(upload["id"], number, data)
        confirmed = confirms.call(
            "POST",
            f"/v1/uploads/{upload['id']}/chunks/{number}/confirm",
            json={"hash": put.headers["ETag"]},
        )
        assert confirmed.status_code == 200, confirmed.text
    done = through_b.call("POST", f"/v1/uploads/{upload['id']}/complete", json={})
    submitted = through_a.call(
        "POST",
        through_a.project_path(4) + "/submissions",
        json={
            "message": "two hubs",
            "mainFilePath": "main.py",
            "modelDirectoryPath": "resources",
            "type": "CODE",
            "codeFiles": {"main.py": upload["id"]},
            "modelFiles": {},
        },
    )
    listed = through_b.call("GET", through_b.project_path(3) + "/submissions").json()
    files = through_b.call("GET", through_b.project_path(4) + "/clone").json()

    assert len(upload["chunks"]) == 3
    assert done.json()["status"] == "SUCCEEDED", done.text
    assert submitted.status_code == 200, submitted.text
    assert [item["message"] for item in listed] == ["two hubs"]
    assert requests.get(files["main.py"], timeout=10).content == main


def test_a_setup_box_served_by_one_hub_is_accepted_by_the_other(two_hubs):
    hub_a, hub_b = two_hubs
    browser = requests.Session()

    form_page = browser.get(f"{hub_a.url}/competitions/{COMPETITION}", timeout=10)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)
    sent = browser.post(
        f"{hub_b.url}/competitions/{COMPETITION}/setup-command",
        data={"user": "bob", "project": "beta", "csrf_token": csrf_token},
        headers={"Origin": hub_b.url},
        timeout=10,
    )

    assert sent.status_code == 200, sent.text
    assert re.search(r'<code id="setup-command">[^<]+</code>', sent.text), sent.text


def test_a_hub_without_the_deployment_key_refuses_the_others_forms(
    two_hubs, machine_settings, tmp_path_factory
):
    hub_a, _hub_b = two_hubs
    stray = tmp_path_factory.mktemp("machine-c") / "root"
    options = {**_options(machine_settings[0]), "secret_file": None}
    browser = requests.Session()
    form_page = browser.get(f"{hub_a.url}/competitions/{COMPETITION}", timeout=10)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text).group(1)

    with serve_hub(stray, **options) as hub_c:
        sent = browser.post(
            f"{hub_c.url}/competitions/{COMPETITION}/setup-command",
            data={"user": "bob", "project": "beta", "csrf_token": csrf_token},
            headers={"Origin": hub_c.url},
            timeout=10,
        )

    assert sent.status_code == 403
    assert "this form has expired or its security token is missing" in sent.text


def test_a_file_url_one_hub_signed_is_honoured_by_the_other(two_hubs, deployment_key):
    hub_a, hub_b = two_hubs
    key = hub_a.data_file_key(COMPETITION, "X_train")
    signed = signing.sign_blob_url(
        deployment_key.read_bytes().strip(), hub_a.url, key, ttl=timedelta(minutes=5)
    )

    fetched = requests.get(hub_b.url + signed.removeprefix(hub_a.url), timeout=10)

    assert fetched.status_code == 200
    assert fetched.history[0].status_code == 307  # to the store's own URL of the file
    assert fetched.content[:4] == b"PAR1"


# -- the janitor ---------------------------------------------------------------------------


class HeldSweep:
    """Janitor A's store, stopped inside its blob sweep until `release()`."""

    def __init__(self, store: HubStore) -> None:
        self.inside = threading.Event()
        self._go = threading.Event()
        sweep = store.blobs.remove_unreferenced

        def held(referenced: Container[str], older_than: float) -> int:
            self.inside.set()
            self._go.wait(30)
            return sweep(referenced, older_than)

        store.blobs.remove_unreferenced = held  # type: ignore[method-assign]

    def release(self) -> None:
        self._go.set()


def test_only_one_machine_sweeps_the_stored_files_at_a_time(machine_settings, tmp_path):
    unused = tmp_path / "unused.bin"
    unused.write_bytes(os.urandom(500))
    later = utcnow() + timedelta(days=2)
    reports = {}

    with HubStore(machine_settings[0]) as store_a, HubStore(machine_settings[1]) as store_b:
        key, _size, _sha256 = store_b.blobs.put_file(unused)
        held = HeldSweep(store_a)
        sweeping = threading.Thread(target=lambda: reports.update(a=Janitor(store_a).sweep(later)))
        sweeping.start()
        assert held.inside.wait(30)
        reports["b_meanwhile"] = Janitor(store_b).sweep(later)
        kept_meanwhile = store_b.blobs.exists(key)
        held.release()
        sweeping.join(30)
        reports["b_after"] = Janitor(store_b).sweep(later)
        gone_after = not store_b.blobs.exists(key)

    assert reports["b_meanwhile"].blobs_skipped and reports["b_meanwhile"].blobs == 0
    assert kept_meanwhile
    assert not reports["a"].blobs_skipped and reports["a"].blobs == 1
    assert gone_after
    assert not reports["b_after"].blobs_skipped
