"""The hub with its files in an S3 bucket of a real S3-compatible server (SeaweedFS).

Clients fetch and send bytes straight from and to the store through presigned URLs; the
hub only signs, checks what the store says it holds, and verifies every byte it adopts or
hands to a run against its sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

import crunch_cli
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.models import utcnow
from crunch_cli.hub.store import HubStore

pytestmark = pytest.mark.parametrize("hub_blob_store", ["s3"], indirect=True)

COMPETITION = "demo-timeseries"
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"


def md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def bucket_objects(s3, hub) -> dict[str, bytes]:
    """Every object under the hub's prefix, by hub key."""
    parts = urlsplit(hub.settings.blob_store)
    prefix = parts.path.strip("/") + "/"
    client = s3.client()
    names = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=parts.netloc, Prefix=prefix
        )
        for item in page.get("Contents", [])
    ]
    return {
        name.removeprefix(prefix): client.get_object(Bucket=parts.netloc, Key=name)["Body"].read()
        for name in names
    }


def release(caller) -> dict:
    path = f"/v2/competitions/{COMPETITION}/rounds/@current/phases/submission/data-release"
    response = caller.call("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def chunk_request(caller, upload_id: str, number: int) -> dict:
    response = caller.call("GET", f"/v1/uploads/{upload_id}/chunks/{number}/request")
    assert response.status_code == 200, response.text
    return response.json()


def put(signed: dict, data: bytes) -> requests.Response:
    return requests.request(signed["method"], signed["url"], data=data, headers=signed["headers"])


def confirm(caller, upload_id: str, number: int, etag: str) -> requests.Response:
    return caller.call(
        "POST", f"/v1/uploads/{upload_id}/chunks/{number}/confirm", json={"hash": etag}
    )


def complete(caller, upload_id: str) -> requests.Response:
    return caller.call("POST", f"/v1/uploads/{upload_id}/complete", json={})


# -- downloads and uploads go to the store ------------------------------------------------


def test_a_data_file_downloads_straight_from_the_store_with_byte_ranges(s3, caller):
    entry = release(caller)["dataFiles"]["X_train"]

    whole = requests.get(entry["url"])
    part = requests.get(entry["url"], headers={"Range": "bytes=100-199"})

    assert entry["url"].startswith(s3.endpoint_url + "/")
    assert whole.status_code == 200
    assert sha256(whole.content) == entry["sha256"]
    assert len(whole.content) == entry["size"]
    assert part.status_code == 206
    assert part.content == whole.content[100:200]


def test_a_chunk_put_to_the_store_answers_the_etag_that_confirms_it(s3, hub, caller):
    content = os.urandom(2500)
    upload = caller.start_upload("model.bin", len(content), chunk_size=1000)

    etags = []
    for chunk in upload["chunks"]:
        signed = chunk_request(caller, upload["id"], chunk["number"])
        sent = put(signed, content[chunk["offset"] : chunk["offset"] + chunk["size"]])
        assert signed["url"].startswith(s3.endpoint_url + "/")
        assert sent.status_code == 200, sent.text
        etags.append(sent.headers["ETag"])
        assert confirm(caller, upload["id"], chunk["number"], sent.headers["ETag"]).ok
    done = complete(caller, upload["id"])

    assert [chunk["size"] for chunk in upload["chunks"]] == [1000, 1000, 500]
    assert etags == [f'"{md5(content[start : start + 1000])}"' for start in (0, 1000, 2000)]
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["sha256"]) == ("SUCCEEDED", sha256(content))
    stored = bucket_objects(s3, hub)
    assert stored[f"sha256/{sha256(content)[:2]}/{sha256(content)}"] == content
    assert not [key for key in stored if key.startswith(f"uploads/{upload['id']}/")]


def test_a_chunk_of_another_size_than_planned_is_refused_by_the_store(caller):
    upload = caller.start_upload("main.py", 10)
    signed = chunk_request(caller, upload["id"], 1)

    sent = put(signed, b"x" * 11)
    confirmed = confirm(caller, upload["id"], 1, f'"{md5(b"x" * 11)}"')

    assert sent.status_code == 403
    assert confirmed.status_code == 400
    assert confirmed.json()["code"] == "UPLOAD_CHUNK_NOT_RECEIVED"


def test_a_chunk_changed_after_its_confirm_must_be_confirmed_again(caller):
    first, second = b"a" * 64, b"b" * 64
    upload = caller.start_upload("main.py", 64)
    signed = chunk_request(caller, upload["id"], 1)
    assert confirm(caller, upload["id"], 1, put(signed, first).headers["ETag"]).ok

    replaced = put(signed, second)  # the signed URL lives on: the chunk changes
    refused = complete(caller, upload["id"])
    assert confirm(caller, upload["id"], 1, replaced.headers["ETag"]).ok
    done = complete(caller, upload["id"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "UPLOAD_CHUNK_CORRUPTED"
    assert done.json()["sha256"] == sha256(second)


def test_an_organizer_command_stores_its_files_in_the_same_bucket(s3, hub, run_crunch, tmp_path):
    starter = tmp_path / "main.py"
    starter.write_text("# a starter of the organizer's\n")

    done = run_crunch(
        "hub",
        "competition",
        "quickstarter",
        "add",
        COMPETITION,
        str(starter),
        "--name",
        "mine",
        "--root",
        str(hub.root),
    )

    assert done.exit_code == 0, done.output
    source = starter.read_bytes()
    assert bucket_objects(s3, hub)[f"sha256/{sha256(source)[:2]}/{sha256(source)}"] == source
    assert not (hub.root / "blobs").exists()


def test_a_blob_store_that_is_no_s3_location_is_refused_with_a_hint(hub, run_crunch):
    done = run_crunch(
        "hub", "competition", "list", "--root", str(hub.root), "--blob-store", "s3:/no-bucket"
    )

    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        "error: 's3:/no-bucket' is not an S3 location",
        "hint: pass --blob-store s3://BUCKET/PREFIX (or leave it out for ROOT/blobs)",
    ]


# -- runs read verified local copies --------------------------------------------------------


def submit_template(caller) -> dict:
    code = {name: (TEMPLATE / name).read_bytes() for name in ("main.py", "requirements.txt")}
    response = caller.submit(code)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_run_reads_its_code_and_data_from_verified_local_copies(hub, caller):
    submission = submit_template(caller)

    run = caller.wait_for_run(caller.create_run(submission["id"])["id"], timeout=120)

    assert run["success"] is True, run
    cached = {path.name for path in (hub.root / "blob-cache" / "sha256").glob("*/*")}
    x_train = hub.data_file_key(COMPETITION, "X_train").rsplit("/", 1)[-1]
    assert x_train in cached
    assert sha256((TEMPLATE / "main.py").read_bytes()) in cached
    copy = next((hub.root / "blob-cache" / "sha256").glob(f"*/{x_train}"))
    assert copy.stat().st_mode & 0o777 == 0o444


def test_a_run_fails_when_a_data_file_was_changed_in_the_bucket(hub, caller):
    hub.corrupt_data_file(COMPETITION, "X_train")
    key = hub.data_file_key(COMPETITION, "X_train")
    submission = submit_template(caller)

    run = caller.wait_for_run(caller.create_run(submission["id"])["id"], timeout=120)
    logs = caller.run_logs(run["id"])

    assert run["success"] is False
    assert run["exitReason"] == "error"
    expected = re.compile(
        rf"the hub could not run this submission: the hub's stored file {key} is unusable: "
        rf"its bytes hash to sha256 [0-9a-f]{{12}}…, not {key.rsplit('/', 1)[-1][:12]}…"
    )
    assert expected.search(run["errorMessage"]), run["errorMessage"]
    assert any(expected.search(line["content"]) for line in logs)
    assert not list((hub.root / "blob-cache" / "sha256").glob(f"*/{key.rsplit('/', 1)[-1]}"))


def test_an_empty_file_is_stored_checked_and_run_without_a_local_copy(hub, caller):
    code = {
        "main.py": (TEMPLATE / "main.py").read_bytes(),
        "requirements.txt": b"",
        "empty.py": b"",
    }
    uploads = {path: caller.upload(path, content) for path, content in code.items()}
    shutil.rmtree(hub.root / "blob-cache" / "sha256")  # as on a hub started elsewhere

    submitted = caller.call(
        "POST",
        caller.project_path(4) + "/submissions",
        json={"mainFilePath": "main.py", "codeFiles": uploads, "modelFiles": {}},
    )
    run = caller.wait_for_run(caller.create_run(submitted.json()["id"])["id"], timeout=120)

    assert submitted.status_code == 200, submitted.text
    assert run["success"] is True, run


def test_the_janitor_removes_expired_uploads_and_unused_files_from_the_bucket(s3, hub, caller):
    main = (TEMPLATE / "main.py").read_bytes()
    assert caller.submit({"main.py": main}).status_code == 200
    abandoned = caller.start_upload("model.bin", 2000, chunk_size=1000)
    assert put(chunk_request(caller, abandoned["id"], 1), b"a" * 1000).ok
    unused_content = os.urandom(300)
    unused = caller.upload("unused.bin", unused_content)

    with HubStore(hub.settings) as store:
        now = Janitor(store).sweep()
        kept_while_live = set(bucket_objects(s3, hub))
        later = Janitor(store).sweep(utcnow() + timedelta(days=2))
    stored = set(bucket_objects(s3, hub))

    assert now.uploads == now.blobs == 0
    assert f"uploads/{abandoned['id']}/chunks/1" in kept_while_live
    assert (later.uploads, later.blobs) == (2, 1)
    assert not [key for key in stored if key.startswith("uploads/")]
    assert f"sha256/{sha256(unused_content)[:2]}/{sha256(unused_content)}" not in stored
    assert f"sha256/{sha256(main)[:2]}/{sha256(main)}" in stored
    assert hub.data_file_key(COMPETITION, "X_train") in stored
    for upload_id in (abandoned["id"], unused):
        assert caller.call("GET", f"/v1/uploads/{upload_id}").status_code == 404


# -- the competitor's commands, end to end --------------------------------------------------


class CuttingRelay:
    """A TCP relay in front of the store that cuts the first response carrying more than
    `cut_after` bytes: the download has to resume with a `Range` request."""

    def __init__(self, upstream: str, cut_after: int) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.cut_after = cut_after
        self.cuts = 0
        self.requests: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client), daemon=True).start()

    def _requests(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if data[:4] in (b"GET ", b"PUT ", b"HEAD"):
                    self.requests.append(data.decode("latin-1").split("\r\n\r\n")[0])
                sink.sendall(data)

    def _responses(self, source: socket.socket, sink: socket.socket) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self.cuts == 0 and sent + len(data) > self.cut_after:
                    self.cuts += 1
                    sink.sendall(data[: self.cut_after - sent])
                    break
                sent += len(data)
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def relay(s3) -> Iterator[CuttingRelay]:
    cutting = CuttingRelay(s3.endpoint_url, cut_after=50_000)
    yield cutting
    cutting.close()


def set_up(hub, crunch, folder: Path) -> Path:
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    done = crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha", "--token", token)
    assert done.exit_code == 0, done.output
    return folder / f"{COMPETITION}-alpha"


def test_setup_resumes_a_download_cut_between_the_store_and_the_client(
    restartable_hub, relay, crunch, tmp_path
):
    with restartable_hub(s3_endpoint_url=relay.url) as hub:
        workspace = set_up(hub, crunch, tmp_path)
        entries = release_of(hub, workspace)

    assert relay.cuts == 1
    assert any("\r\nrange: bytes=" in request.lower() for request in relay.requests)
    for entry in entries.values():
        assert sha256((workspace / "data" / entry["name"]).read_bytes()) == entry["sha256"]


def release_of(hub, workspace: Path) -> dict[str, Any]:
    token = (workspace / ".crunchdao" / "token").read_text().strip()
    path = f"/v2/competitions/{COMPETITION}/rounds/@current/phases/submission/data-release"
    headers = {"Authorization": f"Project-Token {token}"}
    files: dict[str, Any] = requests.get(hub.url + path, headers=headers).json()["dataFiles"]
    return files


def test_a_second_push_sends_only_the_changed_file_and_its_run_is_ranked(s3, hub, crunch, tmp_path):
    workspace = set_up(hub, crunch, tmp_path)
    os.chdir(workspace)
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    (workspace / "resources").mkdir(exist_ok=True)
    (workspace / "resources" / "model.bin").write_bytes(os.urandom(300_000))
    assert crunch("push", "-m", "first").exit_code == 0
    objects_before = set(bucket_objects(s3, hub))

    with open(workspace / "main.py", "a") as main:
        main.write("\n# tuned\n")
    pushed = crunch("push", "-m", "second", "--wait")
    board = json.loads(crunch("leaderboard", "--json").stdout)

    assert pushed.exit_code == 0, pushed.output
    assert re.search(r"^run 1 succeeded: spearman ", pushed.stdout, re.MULTILINE), pushed.stdout
    new = set(bucket_objects(s3, hub)) - objects_before
    main_sha = sha256((workspace / "main.py").read_bytes())
    assert new == {f"sha256/{main_sha[:2]}/{main_sha}"}
    [entry] = board["entries"]
    assert (entry["rank"], entry["projectName"]) == (1, "alpha")


# -- the public client ---------------------------------------------------------------------


def _interop_helpers() -> Any:
    """tests/interop/conftest.py, loaded under a name of its own: its venv helpers."""
    path = Path(__file__).parents[1] / "interop" / "conftest.py"
    spec = importlib.util.spec_from_file_location("crunch_interop_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def public_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """crunch-cli 13.0.1's venv, found or built as tests/interop builds it."""
    interop = _interop_helpers()
    home = interop._venv_home(tmp_path_factory)
    home.mkdir(parents=True, exist_ok=True)
    version = interop.PUBLIC_VERSION
    venv = home / f"crunch-cli-{version}-py{sys.version_info[0]}{sys.version_info[1]}"
    import fcntl

    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / interop._READY_MARKER
        if not (marker.is_file() and marker.read_text() == version):
            interop._build_venv(venv)
    return venv


@pytest.mark.slow
def test_crunch_cli_13_pushes_through_our_hub_into_the_bucket(
    public_venv, s3, hub, tmp_path_factory, tmp_path
):
    interop = _interop_helpers()
    bin_dir = public_venv / "bin"
    cli = interop.Cli(
        argv=(str(bin_dir / "crunch"), "--api-base-url", hub.url, "--web-base-url", hub.url),
        home=tmp_path_factory.mktemp("public-home"),
        bin_dir=bin_dir,
    )
    token = hub.mint_token(COMPETITION, "alice", "alpha")
    cli.ok("setup", "--token", token, "--no-data", COMPETITION, "alpha", "ws", cwd=tmp_path)
    workspace = tmp_path / "ws"
    shutil.copyfile(TEMPLATE / "main.py", workspace / "main.py")
    (workspace / "requirements.txt").write_text("pandas\n")
    (workspace / "resources").mkdir(exist_ok=True)
    model = os.urandom(120_000)
    (workspace / "resources" / "model.bin").write_bytes(model)

    done = cli.ok("push", "-m", "from 13.0.1", cwd=workspace)
    again = cli.ok("push", "-m", "again", cwd=workspace)

    assert "submission #1 succesfully uploaded!" in done.stdout
    assert "reused cached model file: model.bin" in again.stdout
    stored = bucket_objects(s3, hub)
    assert stored[f"sha256/{sha256(model)[:2]}/{sha256(model)}"] == model
    main = (TEMPLATE / "main.py").read_bytes()
    assert stored[f"sha256/{sha256(main)[:2]}/{sha256(main)}"] == main
    assert not [key for key in stored if key.startswith("uploads/")]
