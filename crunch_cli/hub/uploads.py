"""Chunked uploads, like an object store's multipart upload.

Create (the hub plans the chunks) → for each chunk, a signed PUT URL → PUT exactly the
chunk's bytes (the hub answers `ETag: "<sha256 of the chunk>"`) → confirm with that hash →
complete (every chunk confirmed; the whole file's sha256 is recorded). Chunks confirmed
before an interruption stay confirmed, so a client resumes with the missing ones only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from crunch_cli.hub.blobs import upload_key
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.models import Project, Upload, UploadChunk, utcnow
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.views import iso

PROVIDER = "AWS_S3"  # the public client reads the chunk hash from ETag only for this value
DEFAULT_CHUNK_SIZE = 50_000_000
MAX_CHUNKS = 10_000
HASH_BUFFER = 1024 * 1024
WRITE_BATCH = 4 * 1024 * 1024
OPEN_STATUSES = ("PENDING", "IN_PROGRESS")


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
    ttl: timedelta,
) -> Upload:
    now = utcnow()
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


def confirm(upload: Upload, number: int, given_hash: str) -> UploadChunk:
    require_open(upload)
    chunk = find_chunk(upload, number)
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


def complete(store: HubStore, upload: Upload) -> None:
    require_open(upload)
    missing = [chunk.number for chunk in upload.chunks if not chunk.completed]
    if missing:
        raise HubApiError(
            400,
            "UPLOAD_INCOMPLETE",
            f"upload {upload.id} still misses chunk(s) {', '.join(map(str, missing[:10]))}",
            missingChunks=missing,
        )
    if len(upload.chunks) == 1:
        upload.sha256 = upload.chunks[0].hash  # the only chunk is the whole file
    else:
        upload.sha256 = _file_sha256(store, upload)
    upload.status = "SUCCEEDED"


def _file_sha256(store: HubStore, upload: Upload) -> str:
    digest = hashlib.sha256()
    path = store.blobs.path(upload_key(upload.id))
    with open(path, "rb") as file:
        while piece := file.read(HASH_BUFFER):
            digest.update(piece)
    return digest.hexdigest()


def abort(store: HubStore, upload: Upload) -> None:
    if upload.status != "SUCCEEDED":
        upload.status = "FAILED"
        upload.status_message = "aborted by the client"
        store.blobs.remove(upload_key(upload.id))


def delete(store: HubStore, session: Session, upload: Upload) -> None:
    store.blobs.remove(upload_key(upload.id))
    session.delete(upload)


class _ChunkWriter:
    """Hashes and writes the chunk in a worker thread, a batch at a time, while the event
    loop reads the next batch off the socket: receiving and storing overlap.
    """

    def __init__(self, fd: int, offset: int) -> None:
        self.fd = fd
        self.position = offset
        self.digest = hashlib.sha256()
        self.pieces: list[bytes] = []
        self.buffered = 0
        self.pending: asyncio.Future[None] | None = None

    async def add(self, piece: bytes) -> None:
        self.pieces.append(piece)
        self.buffered += len(piece)
        if self.buffered >= WRITE_BATCH:
            await self._flush()

    async def finish(self) -> str:
        await self._flush()
        await self.settle()
        return self.digest.hexdigest()

    async def settle(self) -> None:
        """Wait for the batch in flight (the file must not close under it)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending

    async def _flush(self) -> None:
        await self.settle()  # batches are hashed in order
        if not self.pieces:
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

    Bytes are counted into the upload's `received_bytes` even when the transfer breaks,
    so what crossed the wire can be measured.
    """
    offset, size = await run_in_threadpool(_chunk_to_receive, store, upload_id, number)
    path = store.blobs.path(upload_key(upload_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    received = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    writer = _ChunkWriter(fd, offset)
    try:
        async for piece in body:
            received += len(piece)
            if received <= size:
                await writer.add(piece)
            # else: keep draining the body, so the client reads our answer
        sha256 = await writer.finish()
    except ClientDisconnect:
        # A killed push: nobody will read the answer, but it keeps the server log clean.
        raise HubApiError(
            400, "UPLOAD_CHUNK_INTERRUPTED", f"chunk {number} was cut off", chunkNumber=number
        ) from None
    finally:
        with contextlib.suppress(OSError):
            await writer.settle()
        os.close(fd)
        if received != size:
            await run_in_threadpool(_record, store, upload_id, number, received, None)
    if received != size:
        raise HubApiError(
            400,
            "UPLOAD_CHUNK_SIZE_MISMATCH",
            f"chunk {number} is {size} bytes, {received} were sent",
            chunkNumber=number,
            expectedSize=size,
            receivedSize=received,
        )
    await run_in_threadpool(_record, store, upload_id, number, received, sha256)
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
    with store.session() as session:
        # One UPDATE, so concurrent chunk PUTs of one upload never lose a count.
        session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(received_bytes=Upload.received_bytes + received)
        )
        upload = session.get(Upload, upload_id)
        if upload is None or sha256 is None:
            return
        chunk = find_chunk(upload, number)
        if chunk.hash != sha256:
            chunk.completed = False
            chunk.completed_at = None
        chunk.hash = sha256
        if upload.status == "PENDING":
            upload.status = "IN_PROGRESS"
