"""The chunked upload protocol: create, signed PUT per chunk, confirm, complete; resumable
from the chunks already confirmed, with the bytes the hub received counted."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.both_databases

CONTENT = os.urandom(2500)


def get_upload(caller, upload_id: str) -> dict:
    return caller.call("GET", f"/v1/uploads/{upload_id}").json()


def test_a_file_sent_in_chunks_completes_with_its_sha256(caller):
    upload = caller.start_upload("model.bin", len(CONTENT), chunk_size=1000)

    assert isinstance(upload["id"], str)
    assert (upload["provider"], upload["status"], upload["chunked"]) == ("AWS_S3", "PENDING", True)
    assert [(c["number"], c["offset"], c["size"], c["last"]) for c in upload["chunks"]] == [
        (1, 0, 1000, False),
        (2, 1000, 1000, False),
        (3, 2000, 500, True),
    ]
    for chunk in upload["chunks"]:
        caller.send_chunk(upload, chunk, CONTENT)
    done = caller.call("POST", f"/v1/uploads/{upload['id']}/complete", json={}).json()

    assert done["status"] == "SUCCEEDED"
    assert done["sha256"] == hashlib.sha256(CONTENT).hexdigest()
    assert done["receivedBytes"] == len(CONTENT)
    assert all(chunk["completed"] for chunk in done["chunks"])


def test_the_etag_of_a_chunk_is_its_quoted_sha256(caller):
    upload = caller.start_upload("a.txt", 5)

    put = caller.put_chunk(upload["id"], 1, b"hello")

    assert put.headers["ETag"] == f'"{hashlib.sha256(b"hello").hexdigest()}"'


def test_an_interrupted_upload_resumes_from_the_confirmed_chunks(caller):
    upload = caller.start_upload("model.bin", len(CONTENT), chunk_size=1000)
    caller.send_chunk(upload, upload["chunks"][0], CONTENT)

    resumed = get_upload(caller, upload["id"])
    for chunk in resumed["chunks"]:
        if not chunk["completed"]:
            caller.send_chunk(resumed, chunk, CONTENT)
    done = caller.call("POST", f"/v1/uploads/{upload['id']}/complete", json={}).json()

    assert resumed["status"] == "IN_PROGRESS"
    assert [chunk["completed"] for chunk in resumed["chunks"]] == [True, False, False]
    assert done["status"] == "SUCCEEDED"
    assert done["receivedBytes"] == len(CONTENT)


def test_complete_names_the_chunks_still_missing(caller):
    upload = caller.start_upload("model.bin", len(CONTENT), chunk_size=1000)
    caller.send_chunk(upload, upload["chunks"][1], CONTENT)

    response = caller.call("POST", f"/v1/uploads/{upload['id']}/complete", json={})

    assert response.status_code == 400
    assert response.json()["code"] == "UPLOAD_INCOMPLETE"
    assert response.json()["missingChunks"] == [1, 3]


def test_a_confirm_with_another_hash_is_refused(caller):
    upload = caller.start_upload("a.txt", 5)
    caller.put_chunk(upload["id"], 1, b"hello")

    response = caller.call(
        "POST", f"/v1/uploads/{upload['id']}/chunks/1/confirm", json={"hash": '"deadbeef"'}
    )

    assert (response.status_code, response.json()["code"]) == (400, "UPLOAD_CHUNK_HASH_MISMATCH")
    assert get_upload(caller, upload["id"])["chunks"][0]["completed"] is False


def test_a_chunk_of_the_wrong_size_is_refused_but_its_bytes_are_counted(caller):
    upload = caller.start_upload("a.txt", 5)

    response = caller.put_chunk(upload["id"], 1, b"hello world")

    assert response.status_code == 400
    assert response.json()["code"] == "UPLOAD_CHUNK_SIZE_MISMATCH"
    assert response.json()["expectedSize"] == 5
    after = get_upload(caller, upload["id"])
    assert after["receivedBytes"] == 11
    confirm = caller.call(
        "POST", f"/v1/uploads/{upload['id']}/chunks/1/confirm", json={"hash": "x"}
    )
    assert confirm.json()["code"] == "UPLOAD_CHUNK_NOT_RECEIVED"


def test_a_chunk_url_signed_for_another_chunk_is_refused(caller):
    upload = caller.start_upload("model.bin", len(CONTENT), chunk_size=1000)
    signed = caller.call("GET", f"/v1/uploads/{upload['id']}/chunks/1/request").json()

    response = requests.put(signed["url"].replace("/chunks/1?", "/chunks/2?"), data=b"x" * 1000)

    assert response.status_code == 403
    assert get_upload(caller, upload["id"])["receivedBytes"] == 0


def test_an_aborted_upload_takes_no_more_chunks(caller):
    upload = caller.start_upload("a.txt", 5)

    aborted = caller.call("POST", f"/v1/uploads/{upload['id']}/abort", json={}).json()
    request = caller.call("GET", f"/v1/uploads/{upload['id']}/chunks/1/request")

    assert aborted["status"] == "FAILED"
    assert (request.status_code, request.json()["code"]) == (409, "UPLOAD_NOT_IN_PROGRESS")


def test_an_empty_file_is_one_empty_chunk(caller):
    upload_id = caller.upload("empty.txt", b"")

    done = get_upload(caller, upload_id)

    assert done["status"] == "SUCCEEDED"
    assert done["sha256"] == hashlib.sha256(b"").hexdigest()
    assert [chunk["size"] for chunk in done["chunks"]] == [0]


def test_uploads_are_deleted_one_by_one_or_in_batches(caller):
    first = caller.upload("a.txt", b"a")
    second = caller.upload("b.txt", b"b")

    deleted = caller.call("DELETE", f"/v1/uploads/{first}")
    listed = caller.call("POST", "/v1/uploads/~/list", json={"uploadIds": [first, second]})
    batch = caller.call("POST", "/v1/uploads/~/delete", json={"uploadIds": [first, second]})

    assert deleted.json()["id"] == first
    assert listed.json()["uploads"][first] is None
    assert listed.json()["uploads"][second]["name"] == "b.txt"
    assert batch.json() == {first: "NOT_FOUND", second: "DELETED"}
    missing = caller.call("GET", f"/v1/uploads/{second}")
    assert (missing.status_code, missing.json()["code"]) == (404, "UPLOAD_NOT_FOUND")


def test_another_projects_upload_looks_missing(caller, caller_for):
    upload_id = caller.upload("a.txt", b"secret")
    bob = caller_for("bob", "beta")

    response = bob.call("GET", f"/v1/uploads/{upload_id}")

    assert (response.status_code, response.json()["code"]) == (404, "UPLOAD_NOT_FOUND")


def test_a_chunk_cut_off_mid_transfer_is_counted_and_can_be_sent_again(caller):
    upload = caller.start_upload("model.bin", len(CONTENT), chunk_size=1000)
    signed = caller.call("GET", f"/v1/uploads/{upload['id']}/chunks/1/request").json()
    parts = urlsplit(signed["url"])
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Length: 1000\r\n\r\n".encode()
            + CONTENT[:400]
        )
        # Stay connected a moment, like a push killed mid-chunk rather than before it.
        time.sleep(0.5)

    # The hub counts the cut-off bytes once it notices the closed connection.
    deadline = time.monotonic() + 10
    while (cut := get_upload(caller, upload["id"]))["receivedBytes"] == 0:
        assert time.monotonic() < deadline, "the hub never counted the cut-off chunk"
        time.sleep(0.01)
    for chunk in upload["chunks"]:
        caller.send_chunk(upload, chunk, CONTENT)
    done = caller.call("POST", f"/v1/uploads/{upload['id']}/complete", json={}).json()

    assert cut["receivedBytes"] == 400
    assert cut["chunks"][0]["completed"] is False
    assert done["status"] == "SUCCEEDED"
    assert done["receivedBytes"] == 400 + len(CONTENT)


def test_upload_times_are_naive_utc_like_the_hosted_hub(caller):
    # The public client compares expiresAt with a naive UTC `now` in its upload cache.
    upload = caller.start_upload("a.txt", 1)

    expires = datetime.fromisoformat(upload["expiresAt"])
    created = datetime.fromisoformat(upload["createdAt"])

    assert expires.tzinfo is None and created.tzinfo is None
    assert abs(created - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=5)
    assert expires - created == timedelta(hours=24)
