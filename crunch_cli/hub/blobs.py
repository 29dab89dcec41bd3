"""The hub's default file store: one folder, files named by opaque keys.

It is one of two `BlobStorage` implementations (`crunch_cli.hub.blobstores`; the other
keeps files in an S3 bucket); the keys below are both stores' names for files.

Content blobs (`sha256/ab/abcd...`) are immutable: the bytes are hashed as they are
written (or as the upload they come from is adopted), made read-only and fsynced under a
private name, then given their address with a hard link that never replaces an existing
file. So the address is always the hash of the bytes actually stored, never a hash someone
reported; registering the same content twice stores it once. Reads that feed a run or a
check go through `copy_verified`/`read_verified`, which catch a blob damaged on disk.

Upload chunks come through the hub (its signed PUT URLs) and are written in place at their
offset in `uploads/<id>`; completing an upload moves that file (no copy) to its content
address once nothing can write it any more.
Unreferenced content blobs are removed by the janitor; the shared/exclusive `gc_lock`
keeps it from removing a blob that is being published at the same moment.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Container, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from crunch_cli.errors import BlobIntegrityError, InsufficientStorageError
from crunch_cli.hub.blobstores.base import PresignedRequest
from crunch_cli.hub.blobstores.verify import VerifiedFiles, check_digest
from crunch_cli.hub.signing import sign_blob_url

COPY_BUFFER = 1024 * 1024
READ_ONLY = 0o444
CONTENT_PREFIX = "sha256"
UPLOADS_FOLDER = "uploads"
TEMPORARY_PREFIX = ".incoming."
GC_LOCK_FILE = ".gc.lock"
LOCK_SUFFIX = ".lock"
_KEY = re.compile(r"^[a-z0-9]+(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class BlobKeyError(ValueError):
    """Raised for a key that could step outside the blob folder."""


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _DISK_FULL


class BlobStore:
    """The folder store. `secret` signs the URLs it gives out (the hub's own `/blobs/`
    route serves them); a store opened without one reads and writes but signs nothing.
    """

    direct_chunks = False

    def __init__(self, root: Path, secret: bytes | None = None) -> None:
        self.root = root
        self._secret = secret
        self._verified = VerifiedFiles()
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, source: Path) -> tuple[str, int, str]:
        """Copy `source` in while hashing the bytes written; returns (key, size, sha256)."""
        digest = hashlib.sha256()
        size = 0
        fd, temporary = self._temporary()
        try:
            with self._disk_space(), os.fdopen(fd, "wb") as writer, open(source, "rb") as reader:
                while chunk := reader.read(COPY_BUFFER):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
            return self._publish(temporary, sha256), size, sha256
        finally:
            temporary.unlink(missing_ok=True)

    @contextlib.contextmanager
    def staged(self, key: str) -> Iterator[StagedBlob]:
        """Move the file at `key` to a private name for the block, to hash and publish it.

        Unless the block publishes it, the file goes back to `key` when the block ends; a
        missing file is staged as an empty one. The caller guarantees that nothing writes
        the file meanwhile.
        """
        origin = self.path(key)
        fd, temporary = self._temporary()
        os.close(fd)
        staged = StagedBlob(self, temporary)
        try:
            with contextlib.suppress(FileNotFoundError):
                origin.replace(staged.path)
            yield staged
        finally:
            _put_back(staged.path, origin)

    def copy_verified(self, key: str, sha256: str, target: Path) -> None:
        """Copy the blob to `target` while hashing it: a blob whose bytes are not the ones
        stored under that sha256 leaves no `target` behind and raises BlobIntegrityError.
        """
        digest = hashlib.sha256()
        with self._open(key) as reader:
            try:
                with open(target, "wb") as writer:
                    while piece := reader.read(COPY_BUFFER):
                        digest.update(piece)
                        writer.write(piece)
                check_digest(key, sha256, digest.hexdigest())
            except BaseException:
                target.unlink(missing_ok=True)
                raise

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def local_file(self, key: str, sha256: str) -> Path:
        """The blob itself, hashed against `sha256` unless this process already did so
        since it last changed (`VerifiedFiles`)."""
        path = self.path(key)
        self._verified.check(path, key, sha256)
        return path

    def download_url(self, key: str, *, base_url: str, ttl: timedelta) -> str:
        return sign_blob_url(self._signing_key(), base_url, key, ttl=ttl)

    def chunk_put_request(
        self, upload_id: str, number: int, size: int, *, base_url: str, ttl: timedelta
    ) -> PresignedRequest:
        url = sign_blob_url(
            self._signing_key(), base_url, chunk_key(upload_id, number), method="PUT", ttl=ttl
        )
        return {
            "method": "PUT",
            "url": url,
            "headers": {"Content-Type": "application/octet-stream"},
        }

    def received_chunk(self, upload_id: str, number: int) -> tuple[int, str] | None:
        """Never asked: chunks come through the hub, which hashes them as it writes."""
        return None

    @contextlib.contextmanager
    def adopt_upload(self, upload_id: str, sizes: Sequence[int]) -> Iterator[StagedBlob]:
        with self.staged(upload_key(upload_id)) as staged:
            staged.chunk_hashes = staged.hash_ranges(sizes)
            yield staged

    def discard_upload(self, upload_id: str) -> None:
        self.remove(upload_key(upload_id))

    def upload_lock_path(self, upload_id: str) -> Path:
        path = self.path(upload_lock_key(upload_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def upload_leftovers(self) -> Iterator[tuple[str, float]]:
        """Files of `uploads/` (data or lock); their ctime, which moving one sets."""
        for entry, status in _entries(self.root / UPLOADS_FOLDER, depth=1):
            yield entry.name.removesuffix(LOCK_SUFFIX), status.st_ctime

    def read_verified(self, key: str, sha256: str, max_bytes: int) -> bytes:
        """The blob's bytes, checked against `sha256`. More than `max_bytes` of them means
        the blob is not the (smaller) file recorded: BlobIntegrityError, like a mismatch.
        """
        with self._open(key) as reader:
            content = reader.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise BlobIntegrityError(key, f"it holds more than the {max_bytes} bytes expected")
        check_digest(key, sha256, hashlib.sha256(content).hexdigest())
        return content

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def remove_unreferenced(self, referenced: Container[str], older_than: float) -> int:
        """Delete content blobs not in `referenced` and last published before the time
        `older_than` (a Unix time), plus temporary files abandoned before it; returns how
        many content blobs went.
        """
        removed = 0
        with self.gc_lock(exclusive=True):
            for entry, status in _entries(self.root / CONTENT_PREFIX, depth=2):
                key = f"{CONTENT_PREFIX}/{Path(entry.path).parent.name}/{entry.name}"
                if key not in referenced and status.st_mtime < older_than:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
            for entry, status in _entries(self.root, depth=1):
                # ctime: a staged upload keeps its chunks' mtime, but moving it set ctime
                if entry.name.startswith(TEMPORARY_PREFIX) and status.st_ctime < older_than:
                    Path(entry.path).unlink(missing_ok=True)
        return removed

    @contextlib.contextmanager
    def gc_lock(self, *, exclusive: bool) -> Iterator[None]:
        """Publishing takes it shared, the janitor's sweep exclusive: a blob re-published
        (its time refreshed) is never deleted between the sweep's look and its unlink.
        """
        fd = os.open(self.root / GC_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _publish(self, temporary: Path, sha256: str) -> str:
        """Give the finished file at `temporary` its content address, read-only and on disk.

        An address that exists already keeps its file (same bytes): only its time is
        refreshed, so the janitor's grace period starts again for it.
        """
        key = content_key(sha256)
        target = self.path(key)
        with self._disk_space():
            with open(temporary, "rb") as file:
                os.fchmod(file.fileno(), READ_ONLY)
                os.fsync(file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.gc_lock(exclusive=False):
                os.utime(temporary)
                try:
                    os.link(temporary, target)
                except FileExistsError:
                    os.utime(target)
                _fsync_directory(target.parent)
        temporary.unlink()
        return key

    def _signing_key(self) -> bytes:
        if self._secret is None:
            raise RuntimeError("this BlobStore was opened without the hub's signing key")
        return self._secret

    def _temporary(self) -> tuple[int, Path]:
        with self._disk_space():
            fd, name = tempfile.mkstemp(dir=self.root, prefix=TEMPORARY_PREFIX)
        return fd, Path(name)

    @contextlib.contextmanager
    def _open(self, key: str) -> Iterator[BinaryIO]:
        try:
            reader = open(self.path(key), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise BlobIntegrityError(key, "it is missing") from None
        with reader:
            yield reader

    @contextlib.contextmanager
    def _disk_space(self) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            if is_disk_full(error):
                raise InsufficientStorageError(str(self.root)) from error
            raise


class StagedBlob:
    """A file taken out of its key (see `BlobStore.staged`): hash it, then publish it."""

    def __init__(self, store: BlobStore, path: Path) -> None:
        self._store = store
        self.path = path
        self.sha256: str | None = None
        self.chunk_hashes: list[str] = []

    def hash_ranges(self, sizes: Sequence[int]) -> list[str]:
        """sha256 of each consecutive range of these sizes, in one read of the file; the
        whole file's sha256 becomes `self.sha256`. A range the file does not fill hashes
        what is there, so it cannot match a complete range's hash.
        """
        whole = hashlib.sha256()
        hashes = []
        with open(self.path, "rb") as file:
            for size in sizes:
                part = hashlib.sha256()
                left = size
                while left and (piece := file.read(min(COPY_BUFFER, left))):
                    part.update(piece)
                    whole.update(piece)
                    left -= len(piece)
                hashes.append(part.hexdigest())
            while piece := file.read(COPY_BUFFER):  # bytes past the planned end
                whole.update(piece)
        self.sha256 = whole.hexdigest()
        return hashes

    def publish(self) -> str:
        """Store the file at the address of the bytes hashed by `hash_ranges`."""
        if self.sha256 is None:
            raise RuntimeError("hash_ranges() must come before publish()")
        return self._store._publish(self.path, self.sha256)


def content_key(sha256: str) -> str:
    return f"{CONTENT_PREFIX}/{sha256[:2]}/{sha256}"


def upload_key(upload_id: str) -> str:
    return f"{UPLOADS_FOLDER}/{upload_id}"


def upload_lock_key(upload_id: str) -> str:
    return f"{UPLOADS_FOLDER}/{upload_id}{LOCK_SUFFIX}"


def chunk_key(upload_id: str, number: int) -> str:
    """What a chunk's signed PUT URL names (the folder writes it into `upload_key`)."""
    return f"{UPLOADS_FOLDER}/{upload_id}/chunks/{number}"


def check_key(key: str) -> str:
    """`key`, unless it could step outside the store's folder or prefix (BlobKeyError)."""
    if not _KEY.match(key):
        raise BlobKeyError(key)
    return key


def _entries(folder: Path, depth: int) -> Iterator[tuple[os.DirEntry[str], os.stat_result]]:
    """Files `depth` levels below `folder` (1: its own files) with their status; nothing
    if the folder is missing, and no file that vanished while listed.
    """
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    for entry in entries:
        if depth > 1 and entry.is_dir(follow_symlinks=False):
            yield from _entries(Path(entry.path), depth - 1)
        elif depth == 1 and entry.is_file(follow_symlinks=False):
            try:
                yield entry, entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue


def _put_back(staged: Path, origin: Path) -> None:
    """Return an unpublished staged file to its key. One that already has its content
    address (a second link) is only dropped: its inode is a read-only blob now, and must
    never again be reachable through a writable upload path.
    """
    try:
        status = staged.stat()
    except FileNotFoundError:
        return
    if status.st_nlink > 1:
        staged.unlink()
        return
    staged.chmod(0o600)
    staged.replace(origin)


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
