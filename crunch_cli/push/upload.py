"""Send files through the hub's chunked upload API, resumably and only once.

`.crunchdao/upload-cache.json` maps file contents (sha256) to the hub upload that holds
them. A file whose upload is still valid on the hub is not sent again; an upload that was
cut short (a killed push) resumes from the chunks the hub has confirmed. Hashing a large
model is itself costly, so the cache also remembers each path's size and mtime: an
untouched file is not even re-read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, cast

from crunch_cli.api import ProjectClient
from crunch_cli.api.streams import Body
from crunch_cli.errors import ApiError, HubError, HubUnreachableError, NotFoundError, PushError
from crunch_cli.workers import Batch
from crunch_cli.workspace import atomic_write_json

CACHE_FILE = "upload-cache.json"
CHUNK_SIZE = 50_000_000
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
WORKERS = 4
HASH_BLOCK = 1 << 20


@dataclasses.dataclass(frozen=True)
class Blob:
    """Bytes to upload: a file on disk, or content made by push (converted script, freeze)."""

    name: str
    size: int
    sha256: str
    source: Path | None = None
    content: bytes | None = None

    def read(self, offset: int, size: int) -> bytes:
        if self.content is not None:
            return self.content[offset : offset + size]
        assert self.source is not None
        with open(self.source, "rb") as file:
            file.seek(offset)
            return file.read(size)


class UploadProgress(Protocol):
    def start(self, blob: Blob, already: int) -> None: ...

    def advance(self, blob: Blob, amount: int) -> None: ...

    def finish(self, blob: Blob, sent: bool) -> None: ...


class UploadCache:
    """`.crunchdao/upload-cache.json`, in the public crunch-cli's format (version 1).

    Sharing its format means either client reuses the other's uploads instead of fighting
    over the file. An entry is one content (`checksum`) held by one hub upload, with the
    paths known to have that content (`knownLocations`: size and mtime, the fast path).
    Thread-safe; saved atomically after each change of an upload.
    """

    VERSION = 1
    TIME_TO_LIVE = 3

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        entries = data.get("entries") if data.get("version") == self.VERSION else None
        self._entries: dict[str, dict[str, Any]] = {
            entry["checksum"]: entry
            for entry in entries or []
            if isinstance(entry, dict) and {"checksum", "uploadId"} <= entry.keys()
        }
        # Paths hashed by this process: (size, mtime, checksum), recorded as known locations.
        self._seen: dict[str, tuple[int, str, str]] = {}

    def sha256(self, relative_path: str, path: Path) -> str:
        """The file's sha256, trusting a known location while its size and mtime hold."""
        stat = path.stat()
        modified = _modification_time(stat.st_mtime)
        for entry in self._entries.values():
            for location in entry.get("knownLocations") or []:
                if location.get("path") == relative_path and (
                    location.get("size"),
                    location.get("modificationTime"),
                ) == (stat.st_size, modified):
                    return _hex(entry["checksum"])
        digest = hashlib.sha256()
        with open(path, "rb") as file:
            while block := file.read(HASH_BLOCK):
                digest.update(block)
        with self._lock:
            self._seen[relative_path] = (stat.st_size, modified, _checksum(digest.hexdigest()))
        return digest.hexdigest()

    def upload_id(self, sha256: str) -> str | None:
        """The upload holding this content, unless the cache already knows it expired."""
        entry = self._entries.get(_checksum(sha256))
        if entry is None or _expired(entry.get("expiresAt")):
            return None
        return cast("str", entry["uploadId"])

    def remember(self, sha256: str, upload: dict[str, Any]) -> None:
        with self._lock:
            entry = self._entries.setdefault(_checksum(sha256), {"knownLocations": []})
            entry.update(
                checksum=_checksum(sha256),
                uploadId=upload["id"],
                expiresAt=upload.get("expiresAt"),
                timeToLive=self.TIME_TO_LIVE,
            )
            self._save()

    def forget(self, sha256: str) -> None:
        with self._lock:
            self._entries.pop(_checksum(sha256), None)
            self._save()

    def save(self) -> None:
        with self._lock:
            self._save()

    def _save(self) -> None:
        for relative_path, (size, modified, checksum) in self._seen.items():
            for entry in self._entries.values():
                locations = [
                    location
                    for location in entry.get("knownLocations") or []
                    if location.get("path") != relative_path
                ]
                if entry["checksum"] == checksum:
                    locations.append(
                        {"path": relative_path, "size": size, "modificationTime": modified}
                    )
                entry["knownLocations"] = locations
        entries = sorted(self._entries.values(), key=lambda entry: entry["checksum"])
        atomic_write_json(self.path, {"version": self.VERSION, "entries": entries})


def _checksum(sha256: str) -> str:
    return f"sha256:{sha256}"


def _hex(checksum: str) -> str:
    return checksum.removeprefix("sha256:")


def _modification_time(mtime: float) -> str:
    """As the public client writes it: naive UTC, ISO 8601."""
    return datetime.fromtimestamp(mtime, tz=timezone.utc).replace(tzinfo=None).isoformat()


def _expired(value: str | None) -> bool:
    if not value:
        return False
    try:
        expires = datetime.fromisoformat(value)
    except ValueError:
        return True
    if expires.tzinfo is not None:
        expires = expires.astimezone(timezone.utc).replace(tzinfo=None)
    return expires <= datetime.now(tz=timezone.utc).replace(tzinfo=None)


@dataclasses.dataclass
class UploadReport:
    upload_ids: dict[str, str]  # sha256 -> upload id
    started: dict[str, str]  # the uploads this push created or resumed, sha256 -> id
    sent_bytes: int
    reused: int


def blob_from_file(name: str, path: Path, cache: UploadCache) -> Blob:
    return Blob(name=name, size=path.stat().st_size, sha256=cache.sha256(name, path), source=path)


def blob_from_bytes(name: str, content: bytes) -> Blob:
    return Blob(
        name=name, size=len(content), sha256=hashlib.sha256(content).hexdigest(), content=content
    )


def upload_blobs(
    client: ProjectClient,
    blobs: Iterable[Blob],
    cache: UploadCache,
    *,
    progress: UploadProgress | None = None,
    workers: int = WORKERS,
    chunk_size: int = CHUNK_SIZE,
    sleep: Callable[[float], None] = time.sleep,
) -> UploadReport:
    """Make sure every distinct content is held by a SUCCEEDED upload on the hub.

    On failure, uploads started by this call and left incomplete are aborted on the hub
    (best effort) and the error is raised; completed uploads stay cached for the next push.
    """
    unique = {blob.sha256: blob for blob in blobs}
    uploader = _Uploader(client, cache, progress, sleep, chunk_size)
    try:
        results = uploader.batch.map(uploader.ensure, unique.values(), workers=workers)
    except Exception:
        discard_uploads(client, cache, uploader.started)
        raise
    finally:
        cache.save()
    return UploadReport(
        upload_ids=dict(zip(unique, results, strict=True)),
        started=dict(uploader.started),
        sent_bytes=uploader.sent_bytes,
        reused=uploader.reused,
    )


def discard_uploads(client: ProjectClient, cache: UploadCache, uploads: dict[str, str]) -> None:
    """Delete uploads that no submission will use (best effort).

    An unreachable hub keeps its cache entry, so that the next push resumes that upload
    instead of sending it again; a Ctrl-C (not an Exception) discards nothing, for the same
    reason.
    """
    for sha256, upload_id in uploads.items():
        try:
            client.delete_upload(upload_id)
        except HubError:
            continue
        cache.forget(sha256)


class _Uploader:
    def __init__(
        self,
        client: ProjectClient,
        cache: UploadCache,
        progress: UploadProgress | None,
        sleep: Callable[[float], None],
        chunk_size: int,
    ) -> None:
        self.client = client
        self.chunk_size = chunk_size
        self.cache = cache
        self.progress = progress
        self.sleep = sleep
        self.sent_bytes = 0
        self.reused = 0
        self.started: dict[str, str] = {}  # sha256 -> upload id, created or resumed here
        self.batch = Batch()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(WORKERS)

    def ensure(self, blob: Blob) -> str:
        upload = self._existing(blob)
        if upload is not None and upload["status"] == "SUCCEEDED":
            self.cache.remember(blob.sha256, upload)  # a fresh expiry and time to live
            with self._lock:
                self.reused += 1
            if self.progress:
                self.progress.finish(blob, sent=False)
            return cast("str", upload["id"])
        if upload is None:
            upload = self.client.create_upload(blob.name, blob.size, self.chunk_size)
            self.cache.remember(blob.sha256, upload)
        with self._lock:
            self.started[blob.sha256] = upload["id"]
        chunks = upload.get("chunks") or []
        already = sum(chunk["size"] for chunk in chunks if chunk.get("completed"))
        if self.progress:
            self.progress.start(blob, already)
        pending = [chunk for chunk in chunks if not chunk.get("completed")]
        self.batch.map(
            lambda chunk: self._send_chunk(upload["id"], blob, chunk), pending, workers=WORKERS
        )
        completed = self.client.complete_upload(upload["id"])
        if completed.get("status") != "SUCCEEDED":
            raise PushError(
                f"the hub did not accept the upload of {blob.name} ({completed.get('status')})",
                hint="run `crunch push` again",
            )
        if self.progress:
            self.progress.finish(blob, sent=True)
        return cast("str", upload["id"])

    def _existing(self, blob: Blob) -> dict[str, Any] | None:
        """The cached upload for this content, if the hub still has it in a usable state."""
        upload_id = self.cache.upload_id(blob.sha256)
        if upload_id is None:
            return None
        try:
            upload = self.client.upload(upload_id)
        except NotFoundError:
            upload = None
        except ApiError as error:
            if error.status not in (403, 404, 410):
                raise
            upload = None
        if upload is None or upload.get("status") not in ("PENDING", "IN_PROGRESS", "SUCCEEDED"):
            self.cache.forget(blob.sha256)
            return None
        return upload

    def _send_chunk(self, upload_id: str, blob: Blob, chunk: dict[str, Any]) -> None:
        # Chunks of every file share WORKERS slots: at most that many chunks are in memory.
        with self._slots:
            self._send_chunk_now(upload_id, blob, chunk)

    def _send_chunk_now(self, upload_id: str, blob: Blob, chunk: dict[str, Any]) -> None:
        offset, size = int(chunk["offset"]), int(chunk["size"])
        body = Body(lambda start, amount: blob.read(offset + start, amount), size, self.batch.check)
        for attempt in range(ATTEMPTS):
            if attempt:
                self.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                body.seek(0)
            try:
                self.client.upload_chunk(upload_id, chunk, body)
                break
            except HubUnreachableError:
                if attempt == ATTEMPTS - 1:
                    raise
            except ApiError as error:
                if error.status < 500 or attempt == ATTEMPTS - 1:
                    raise
        with self._lock:
            self.sent_bytes += size
        if self.progress:
            self.progress.advance(blob, size)
