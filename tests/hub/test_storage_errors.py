"""A hub whose S3 store cannot be used: it refuses to start on a bucket it cannot use, and
while its store is down every request that needs a stored file answers `503
STORAGE_UNAVAILABLE` with `Retry-After`, then works again once the store is back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

import crunch_cli

pytestmark = pytest.mark.parametrize("hub_blob_store", ["s3"], indirect=True)

COMPETITION = "demo-timeseries"
TEMPLATE = Path(crunch_cli.__file__).parent / "templates" / "timeseries"
MAIN = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"


class StoreEndpoint:
    """A TCP relay in front of the store that can be stopped (every connection through it
    cut, new ones refused) and started again on the same port."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").rsplit(":", 1)
        self.upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def stop(self) -> None:
        # A thread blocked in accept() keeps the port open past a bare close().
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def endpoint(s3) -> Iterator[StoreEndpoint]:
    relay = StoreEndpoint(s3.endpoint_url)
    yield relay
    relay.stop()


@pytest.fixture
def hub_on_endpoint(restartable_hub, endpoint):
    with restartable_hub(s3_endpoint_url=endpoint.url) as hub:
        yield hub


def assert_storage_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "STORAGE_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) >= 1


def test_requests_needing_stored_files_answer_503_while_the_store_is_down(
    hub_on_endpoint, endpoint, new_caller
):
    caller = new_caller(hub_on_endpoint)
    finished = caller.upload("main.py", MAIN)
    confirmed_before = caller.start_upload("model.bin", 1000)
    caller.send_chunk(confirmed_before, confirmed_before["chunks"][0], b"m" * 1000)
    sent_before = caller.start_upload("notes.txt", 1000)
    put = caller.put_chunk(sent_before["id"], 1, b"n" * 1000)
    submission = {
        "message": "while the store is down",
        "mainFilePath": "main.py",
        "modelDirectoryPath": "resources",
        "type": "CODE",
        "codeFiles": {"main.py": finished},
        "modelFiles": {},
    }
    confirm = f"/v1/uploads/{sent_before['id']}/chunks/1/confirm"

    endpoint.stop()
    submitted = caller.call("POST", caller.project_path(4) + "/submissions", json=submission)
    confirmed = caller.call("POST", confirm, json={"hash": put.headers["ETag"]})
    completed = caller.call("POST", f"/v1/uploads/{confirmed_before['id']}/complete", json={})
    endpoint.start()
    submitted_again = caller.call("POST", caller.project_path(4) + "/submissions", json=submission)

    for response in (submitted, confirmed, completed):
        assert_storage_unavailable(response)
        assert endpoint.url not in response.text  # the store's address is the organizer's
    assert submitted_again.status_code == 200, submitted_again.text


def test_a_push_while_the_store_is_down_says_so_and_works_once_it_is_back(
    hub_on_endpoint, endpoint, crunch, tmp_path
):
    token = hub_on_endpoint.mint_token(COMPETITION, "alice", "alpha")
    url = hub_on_endpoint.url
    set_up = crunch("--api-base-url", url, "setup", COMPETITION, "alpha", "--token", token)
    assert set_up.exit_code == 0, set_up.output
    workspace = tmp_path / f"{COMPETITION}-alpha"
    os.chdir(workspace)
    for name in ("main.py", "requirements.txt"):
        shutil.copyfile(TEMPLATE / name, workspace / name)
    assert crunch("push", "-m", "first").exit_code == 0

    endpoint.stop()  # the files are uploaded already: the hub checks the store has them
    refused = crunch("push", "-m", "store down")
    endpoint.start()
    pushed = crunch("push", "-m", "store back")

    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[-2:] == [
        "error: the hub cannot reach the store that keeps its files right now: try again later",
        "hint: the hub's file storage is out of reach for now: try again in a minute "
        "(nothing was lost)",
    ], refused.stderr
    assert pushed.exit_code == 0, pushed.output


# -- the start-up check --------------------------------------------------------------------


def serve(run_crunch, root: Path, *options: str):
    return run_crunch("hub", "serve", "--port", "0", "--root", str(root), *options)


def test_serve_refuses_a_bucket_that_does_not_exist(s3, hub_blob_options, run_crunch, tmp_path):
    missing = f"s3://missing-{uuid.uuid4().hex[:12]}/hub"

    done = serve(
        run_crunch, tmp_path / "hub", "--blob-store", missing, "--s3-endpoint-url", s3.endpoint_url
    )

    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        f"error: the bucket of {missing} does not exist",
        "hint: create it, or pass another --blob-store s3://BUCKET/PREFIX",
    ]


def test_serve_refuses_an_endpoint_that_does_not_answer(hub_blob_options, run_crunch, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"

    done = serve(run_crunch, tmp_path / "hub", "--s3-endpoint-url", closed)

    assert done.exit_code == 1
    [error, hint] = done.stderr.splitlines()
    assert error.startswith(f"error: cannot reach the S3 store of {hub_blob_options['blob_store']}")
    assert f'"{closed}/' in error
    assert hint == "hint: check --s3-endpoint-url (or AWS_ENDPOINT_URL) and that the store is up"


def test_serve_refuses_credentials_the_store_does_not_know(
    s3, hub_blob_options, run_crunch, tmp_path, monkeypatch
):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key")

    done = serve(run_crunch, tmp_path / "hub", "--s3-endpoint-url", s3.endpoint_url)

    assert done.exit_code == 1
    [error, hint] = done.stderr.splitlines()
    assert error.startswith(
        f"error: the S3 store refused the hub's credentials for {hub_blob_options['blob_store']}"
    )
    assert hint.startswith("hint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


def test_serve_leaves_nothing_in_the_bucket_when_it_checks_it(s3, hub, hub_blob_options):
    prefix = hub_blob_options["blob_store"].removeprefix(f"s3://{s3.bucket}/")

    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{prefix}/start-up-checks/")

    assert listed.get("KeyCount", 0) == 0
