"""Chunked uploads, like an object store's multipart upload.

Create (the hub plans the chunks) → for each chunk, a signed PUT URL → PUT exactly the
chunk's bytes (the hub answers `ETag: "<sha256 of the chunk>"`) → confirm with that hash →
complete (every chunk confirmed; the whole file's sha256 is recorded). Chunks confirmed
before an interruption stay confirmed, so a client resumes with the missing ones only.

On a store with `direct_chunks` (S3) the signed URL is the store's own and the store
answers the PUT with its ETag: `confirm` asks the store which ETag it holds for the chunk,
and completing reads the chunks back from the store, each still with its confirmed ETag,
hashing the whole (`BlobStorage.adopt_upload`). Either way the sha256 recorded is that of
the bytes the hub itself read when it adopted them.

A signed chunk URL stays valid for hours, so the hub cannot trust that the bytes of a
confirmed chunk stay put. Every chunk PUT holds a shared `flock` on the upload's lock file
while it writes, and checks that the upload is still open only once it holds it; completing
takes the lock exclusively, hashes the very file it adopts (each chunk's range against its
confirmed hash), commits SUCCEEDED and moves the bytes to their content address before
letting go. A late PUT then finds the upload closed, and the adopted file is out of its
reach. Locks are files, so this holds across hub processes sharing one root.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import mimetypes
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from crunch_cli.errors import InsufficientStorageError
from crunch_cli.hub import db
from crunch_cli.hub.blobs import BlobStore, is_disk_full, upload_key
from crunch_cli.hub.blobstores import PresignedRequest
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.models import Project, Upload, UploadChunk, utcnow
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.views import iso

PROVIDER = "AWS_S3"  # the public client reads the chunk hash from ETag only for this value
DEFAULT_CHUNK_SIZE = 50_000_000
MAX_CHUNKS = 10_000
WRITE_BATCH = 4 * 1024 * 1024
OPEN_STATUSES = ("PENDING", "IN_PROGRESS")
# How long completing (or discarding) an upload waits for chunk PUTs still writing.
LOCK_WAIT_SECONDS = 2.0
LOCK_POLL_SECONDS = 0.05


def status(upload: Upload) -> str:
    """The status to show: anything past its expiry is EXPIRED, even a finished upload."""
    if upload.status != "FAILED" and upload.expires_at <= utcnow():
        return "EXPIRED"
    return upload.status


def view(upload: Upload) -> dict[str, Any]:
    return {
        "id": upload.id,
        "name": upload.name,
        "size": upload.size,
        "encrypted": upload.encrypted,
        "mediaType": upload.media_type,
        "chunked": len(upload.chunks) > 1,
        "status": status(upload),
        "statusMessage": upload.status_message,
        "provider": PROVIDER,
        "expiresAt": iso(upload.expires_at),
        "createdAt": iso(upload.created_at),
        "chunks": [chunk_view(chunk) for chunk in upload.chunks],
        # ours
        "sha256": upload.sha256,
        "receivedBytes": upload.received_bytes,
    }


def chunk_view(chunk: UploadChunk) -> dict[str, Any]:
    return {
        "number": chunk.number,
        "offset": chunk.offset,
        "size": chunk.size,
        "last": chunk.offset + chunk.size >= chunk.upload.size,
        "completed": chunk.completed,
        "completedAt": iso(chunk.completed_at),
    }


def plan(size: int, preferred_chunk_size: int | None) -> list[tuple[int, int]]:
    """(offset, size) of each chunk; an empty file still has one (empty) chunk."""
    chunk_size = max(preferred_chunk_size or DEFAULT_CHUNK_SIZE, -(-size // MAX_CHUNKS), 1)
    if size == 0:
        return [(0, 0)]
    return [(offset, min(chunk_size, size - offset)) for offset in range(0, size, chunk_size)]


def create(
    session: Session,
    project: Project,
    *,
    name: str,
    size: int,
    preferred_chunk_size: int | None,
    media_type: str | None,
    quota: int | None,
    ttl: timedelta,
) -> Upload:
    """A new upload, unless it could never be part of a submission or the project already
    holds its quota in unfinished and unused uploads (`quota` None: twice what a
    submission may weigh). The project row is locked, so concurrent creations add up.
    """
    session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    competition = project.competition
    largest = max(competition.max_code_size, competition.max_model_size)
    if size > largest:
        raise HubApiError(
            413,
            "UPLOAD_TOO_BIG",
            f"{name} weighs {size} bytes, more than a submission file may ({largest})",
            size=size,
            maximumSize=largest,
        )
    if quota is None:
        quota = 2 * (competition.max_code_size + competition.max_model_size)
    now = utcnow()
    held = held_bytes(session, project, now)
    if held + size > quota:
        raise HubApiError(
            413,
            "UPLOAD_QUOTA_EXCEEDED",
            f"this project already holds {held} bytes in unfinished or unused uploads; "
            f"{size} more would pass its quota of {quota}: finish or delete those uploads "
            "(crunch push resumes them), or wait for them to expire",
            size=size,
            usedSize=held,
            maximumSize=quota,
        )
    upload = Upload(
        id=secrets.token_urlsafe(12),
        created_at=now,
        expires_at=now + ttl,
        project_id=project.id,
        name=name,
        size=size,
        media_type=media_type or mimetypes.guess_type(name)[0] or "application/octet-stream",
        chunks=[
            UploadChunk(number=number, offset=offset, size=chunk_size)
            for number, (offset, chunk_size) in enumerate(plan(size, preferred_chunk_size), 1)
        ],
    )
    session.add(upload)
    session.flush()
    return upload


def held_bytes(session: Session, project: Project, now: datetime) -> int:
    """What the project's live uploads weigh, those a submission already uses aside."""
    return (
        session.scalar(
            select(func.coalesce(func.sum(Upload.size), 0)).where(
                Upload.project_id == project.id,
                Upload.expires_at > now,
                or_(
                    Upload.status.in_(OPEN_STATUSES),
                    and_(Upload.status == "SUCCEEDED", Upload.used_at.is_(None)),
                ),
            )
        )
        or 0
    )


def find(session: Session, upload_id: str, project: Project) -> Upload:
    """The caller's upload; someone else's looks exactly like a missing one."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.project_id != project.id:
        raise not_found("UPLOAD_NOT_FOUND", f"no upload {upload_id}", uploadId=upload_id)
    return upload


def find_chunk(upload: Upload, number: int) -> UploadChunk:
    for chunk in upload.chunks:
        if chunk.number == number:
            return chunk
    raise not_found(
        "UPLOAD_CHUNK_NOT_FOUND",
        f"upload {upload.id} has no chunk {number} (it has 1 to {len(upload.chunks)})",
        uploadId=upload.id,
        chunkNumber=number,
    )


def require_open(upload: Upload) -> None:
    current = status(upload)
    if current not in OPEN_STATUSES:
        raise HubApiError(
            409,
            "UPLOAD_NOT_IN_PROGRESS",
            f"upload {upload.id} is {current}: start a new one",
            uploadId=upload.id,
            status=current,
        )


def chunk_request(store: HubStore, upload: Upload, number: int, base_url: str) -> PresignedRequest:
    """The signed PUT of one chunk, while the upload is open."""
    require_open(upload)
    chunk = find_chunk(upload, number)
    return store.blobs.chunk_put_request(
        upload.id,
        chunk.number,
        chunk.size,
        base_url=base_url,
        ttl=store.settings.signed_url_ttl,
    )


def confirm(store: HubStore, upload: Upload, number: int, given_hash: str) -> UploadChunk:
    require_open(upload)
    chunk = find_chunk(upload, number)
    if store.blobs.direct_chunks:
        _note_stored_chunk(store, upload, chunk)
    if chunk.hash is None:
        raise HubApiError(
            400,
            "UPLOAD_CHUNK_NOT_RECEIVED",
            f"chunk {number} of upload {upload.id} has not been sent yet",
            chunkNumber=number,
        )
    if given_hash.strip().strip('"').lower() != chunk.hash:
        raise HubApiError(
            400,
            "UPLOAD_CHUNK_HASH_MISMATCH",
            f"chunk {number} of upload {upload.id} does not match the given hash",
            chunkNumber=number,
        )
    if not chunk.completed:
        chunk.completed = True
        chunk.completed_at = utcnow()
    return chunk


def _note_stored_chunk(store: HubStore, upload: Upload, chunk: UploadChunk) -> None:
    """Record the hash of the chunk the store holds (None: it holds none), as a chunk PUT
    through the hub does (`_record`): the bytes went to the store, not through the hub."""
    stored = store.blobs.received_chunk(upload.id, chunk.number)
    if stored is None:
        chunk.hash = None
        return
    size, etag = stored
    if size != chunk.size:
        raise HubApiError(
            400,
            "UPLOAD_CHUNK_SIZE_MISMATCH",
            f"chunk {chunk.number} is {chunk.size} bytes, {size} were sent",
            chunkNumber=chunk.number,
            expectedSize=chunk.size,
            receivedSize=size,
        )
    if chunk.hash != etag:
        chunk.completed = False
        chunk.completed_at = None
        chunk.hash = etag
        upload.received_bytes += size
    if upload.status == "PENDING":
        upload.status = "IN_PROGRESS"


def complete(store: HubStore, upload_id: str, project: Project) -> dict[str, Any]:
    """Adopt the upload's bytes as a content blob and answer its view.

    Runs its own short transactions under the upload's exclusive lock (see the module's
    docstring), so the caller must hold no write transaction.
    """
    with store.session(write=False) as session:
        find(session, upload_id, project)  # someone else's upload is refused, not locked
    with exclusive_lock(store, upload_id) as lock:
        with store.session(write=False) as session:
            upload = find(session, upload_id, project)
            require_open(upload)
            _require_confirmed(upload)
            confirmed = [(chunk.number, chunk.size, chunk.hash) for chunk in upload.chunks]
        sizes = [size for _number, size, _hash in confirmed]
        with store.blobs.adopt_upload(upload_id, sizes) as staged:
            actual = staged.chunk_hashes
            damaged = [
                number
                for (number, _size, expected), found in zip(confirmed, actual, strict=True)
                if found != expected
            ]
            if damaged:
                _unconfirm(store, upload_id, damaged)
                raise HubApiError(
                    409,
                    "UPLOAD_CHUNK_CORRUPTED",
                    f"chunk(s) {', '.join(map(str, damaged))} of upload {upload_id} changed "
                    "after they were confirmed: send and confirm them again",
                    uploadId=upload_id,
                    chunkNumbers=damaged,
                )
            _set_status(store, upload_id, "SUCCEEDED", staged.sha256)
            try:
                staged.publish()
            except BaseException:
                _set_status(store, upload_id, "IN_PROGRESS", None)
                raise
        lock.remove()
    with store.session(write=False) as session:
        return view(find(session, upload_id, project))


def _require_confirmed(upload: Upload) -> None:
    missing = [chunk.number for chunk in upload.chunks if not chunk.completed]
    if missing:
        raise HubApiError(
            400,
            "UPLOAD_INCOMPLETE",
            f"upload {upload.id} still misses chunk(s) {', '.join(map(str, missing[:10]))}",
            missingChunks=missing,
        )


def _unconfirm(store: HubStore, upload_id: str, numbers: list[int]) -> None:
    with store.session() as session:
        session.execute(
            update(UploadChunk)
            .where(UploadChunk.upload_id == upload_id, UploadChunk.number.in_(numbers))
            .values(hash=None, completed=False, completed_at=None)
        )


def _set_status(store: HubStore, upload_id: str, new_status: str, sha256: str | None) -> None:
    with store.session() as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise not_found("UPLOAD_NOT_FOUND", f"no upload {upload_id}", uploadId=upload_id)
        upload.status = new_status
        upload.sha256 = sha256


def abort(store: HubStore, upload: Upload) -> None:
    if upload.status != "SUCCEEDED":
        upload.status = "FAILED"
        upload.status_message = "aborted by the client"
        discard_files(store, upload.id)


def delete(store: HubStore, session: Session, upload: Upload) -> None:
    discard_files(store, upload.id)
    session.delete(upload)


def discard_files(store: HubStore, upload_id: str) -> None:
    """Delete the upload's file, once no chunk PUT is writing it."""
    with exclusive_lock(store, upload_id) as lock:
        store.blobs.discard_upload(upload_id)
        lock.remove()


class UploadLock:
    """The upload's lock file (an open descriptor; closing it releases the lock).

    Chunk PUTs hold it shared while they write; completing, discarding and the janitor
    hold it exclusively. It is deleted only while held exclusively and once the upload is
    closed: a PUT still waiting on the old file then finds the upload closed, and one that
    makes a new file does too.
    """

    def __init__(self, store: HubStore, upload_id: str) -> None:
        self.path = store.blobs.upload_lock_path(upload_id)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def share(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def try_exclusive(self, wait: float) -> bool:
        """Take the lock exclusively, polling for up to `wait` seconds: never blocking
        forever behind a PUT a client holds open.
        """
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(LOCK_POLL_SECONDS)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        os.close(self._fd)


@contextlib.contextmanager
def exclusive_lock(store: HubStore, upload_id: str) -> Iterator[UploadLock]:
    lock = UploadLock(store, upload_id)
    try:
        if not lock.try_exclusive(LOCK_WAIT_SECONDS):
            raise HubApiError(
                409,
                "UPLOAD_CHUNK_IN_FLIGHT",
                f"a chunk of upload {upload_id} is still being sent: let its PUT end "
                "(or cancel it), then try again",
                uploadId=upload_id,
            )
        yield lock
    finally:
        lock.close()


@contextlib.contextmanager
def insufficient_storage_as_507() -> Iterator[None]:
    """A full disk, under the blobs or the database, answers 507: nothing half-written is
    kept, so the same request succeeds once space is freed. (An object store that cannot be
    used answers 503, from the app's handler.)
    """
    try:
        yield
    except InsufficientStorageError as error:
        raise HubApiError(507, "INSUFFICIENT_STORAGE", error.message) from error
    except (OSError, OperationalError) as error:
        full = is_disk_full(error) or (isinstance(error, OperationalError) and db.is_full(error))
        if not full:
            raise
        raise HubApiError(
            507, "INSUFFICIENT_STORAGE", "no space left on the hub's storage: try again later"
        ) from error


class _ChunkWriter:
    """Hashes and writes the chunk in a worker thread, a batch at a time, while the event
    loop reads the next batch off the socket: receiving and storing overlap.

    A failed write (a full disk) is kept and raised once the whole body has been read,
    so the client reads the answer instead of a reset connection.
    """

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd = fd
        self.position = offset
        self.size = size
        self.received = 0
        self.digest = hashlib.sha256()
        self.pieces: list[bytes] = []
        self.buffered = 0
        self.pending: asyncio.Future[None] | None = None
        self.failure: OSError | None = None

    async def add(self, piece: bytes) -> None:
        self.received += len(piece)
        if self.received > self.size or self.failure is not None:
            return  # keep draining the body, so the client reads our answer
        self.pieces.append(piece)
        self.buffered += len(piece)
        if self.buffered >= WRITE_BATCH:
            await self._flush()

    async def finish(self) -> str | None:
        """The chunk's sha256, or None when the body was not exactly the chunk's size."""
        await self._flush()
        await self.settle()
        if self.failure is not None:
            raise self.failure
        return self.digest.hexdigest() if self.received == self.size else None

    async def settle(self) -> None:
        """Wait for the batch in flight (the file must not close under it)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            try:
                await pending
            except OSError as error:
                self.failure = error

    async def _flush(self) -> None:
        await self.settle()  # batches are hashed in order
        if not self.pieces or self.failure is not None:
            return
        data = b"".join(self.pieces)
        self.pieces, self.buffered = [], 0
        self.pending = asyncio.ensure_future(run_in_threadpool(self._write, data, self.position))
        self.position += len(data)

    def _write(self, data: bytes, position: int) -> None:
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, position)
            view, position = view[written:], position + written
        self.digest.update(data)


async def receive_chunk(
    store: HubStore, upload_id: str, number: int, body: AsyncIterator[bytes]
) -> str:
    """Write one chunk's bytes at its offset while hashing them; returns the sha256.

    The upload must still be open once the shared lock is held, and the lock is kept
    until the bytes are written. Bytes are counted into the upload's `received_bytes`
    even when the transfer breaks, so what crossed the wire can be measured.
    """
    blobs = store.blobs
    if not isinstance(blobs, BlobStore):  # such a store takes chunks itself
        raise not_found("UPLOAD_NOT_FOUND", f"no upload {upload_id} here", uploadId=upload_id)
    lock = await run_in_threadpool(UploadLock, store, upload_id)
    writer: _ChunkWriter | None = None
    sha256: str | None = None
    try:
        await run_in_threadpool(lock.share)
        offset, size = await run_in_threadpool(_chunk_to_receive, store, upload_id, number)
        fd = os.open(blobs.path(upload_key(upload_id)), os.O_WRONLY | os.O_CREAT, 0o600)
        writer = _ChunkWriter(fd, offset, size)
        try:
            async for piece in body:
                await writer.add(piece)
            sha256 = await writer.finish()
        finally:
            await writer.settle()
            os.close(fd)
        if sha256 is None:
            raise HubApiError(
                400,
                "UPLOAD_CHUNK_SIZE_MISMATCH",
                f"chunk {number} is {size} bytes, {writer.received} were sent",
                chunkNumber=number,
                expectedSize=size,
                receivedSize=writer.received,
            )
    except ClientDisconnect:
        # A killed push: nobody will read the answer, but it keeps the server log clean.
        raise HubApiError(
            400, "UPLOAD_CHUNK_INTERRUPTED", f"chunk {number} was cut off", chunkNumber=number
        ) from None
    finally:
        lock.close()  # before recording: completing may hold the database while it waits
        if writer is not None:
            await run_in_threadpool(_record, store, upload_id, number, writer.received, sha256)
    return sha256


def _chunk_to_receive(store: HubStore, upload_id: str, number: int) -> tuple[int, int]:
    with store.session(write=False) as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise not_found("UPLOAD_NOT_FOUND", f"no upload {upload_id}", uploadId=upload_id)
        require_open(upload)
        chunk = find_chunk(upload, number)
        return chunk.offset, chunk.size


def _record(
    store: HubStore, upload_id: str, number: int, received: int, sha256: str | None
) -> None:
    """Count the bytes; note the chunk's new hash unless the upload closed meanwhile (its
    adopted bytes were hashed from the file, whatever this PUT wrote before)."""
    with store.session() as session:
        # One UPDATE, so concurrent chunk PUTs of one upload never lose a count.
        session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(received_bytes=Upload.received_bytes + received)
        )
        upload = session.get(Upload, upload_id)
        if upload is None or sha256 is None or status(upload) not in OPEN_STATUSES:
            return
        chunk = find_chunk(upload, number)
        if chunk.hash != sha256:
            chunk.completed = False
            chunk.completed_at = None
        chunk.hash = sha256
        if upload.status == "PENDING":
            upload.status = "IN_PROGRESS"
