"""What the hub asks of the store that keeps its files, whichever store that is.

Keys are opaque paths (`sha256/ab/abcd...` for content blobs, `uploads/<id>...` for
uploads in progress; `crunch_cli.hub.blobs` makes them). Content blobs are immutable and
their key is the sha256 of their bytes as the hub itself hashed them; every read that
feeds a run, a check or a local copy hashes the bytes again, so a store that hands back
other bytes (damaged, or changed behind the hub's back) fails that use instead of serving
or running them.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Protocol, TypedDict

from crunch_cli.errors import HubStorageError


class StorageUnavailableError(HubStorageError):
    """Raised when the store that keeps the hub's files cannot be used right now: it does
    not answer, it fails, or it refuses the hub's access. Whatever asked did not get its
    bytes, so the hub answers `503 STORAGE_UNAVAILABLE` with `Retry-After`: once the store
    (or the hub's access to it) is back, the same request works.
    """


class PresignedRequest(TypedDict):
    """How a client sends one upload chunk (HUB_API.md, "Uploads")."""

    method: str
    url: str
    headers: dict[str, str]


class Adoption(Protocol):
    """An upload's bytes taken out of reach of its chunk URLs, hashed, not yet published.

    `chunk_hashes` are each planned chunk's hash as the store reports chunks (what `confirm`
    compared), `sha256` the whole file's.
    """

    chunk_hashes: list[str]
    sha256: str | None

    def publish(self) -> str:
        """Store the bytes at their content key (returned)."""
        ...


class BlobStorage(Protocol):
    """The hub's file store: a folder (`crunch_cli.hub.blobs.BlobStore`) or an S3 bucket
    (`crunch_cli.hub.blobstores.s3.S3BlobStore`).

    `direct_chunks`: chunk PUTs go straight to the store, so the hub learns a chunk's hash
    by asking the store (`received_chunk`) instead of hashing the bytes as it writes them.
    """

    direct_chunks: bool

    def put_file(self, source: Path) -> tuple[str, int, str]:
        """Store a copy of `source`; returns (key, size, sha256) of the bytes stored."""
        ...

    def exists(self, key: str) -> bool: ...

    def read_verified(self, key: str, sha256: str, max_bytes: int) -> bytes:
        """The blob's bytes, checked against `sha256` (BlobIntegrityError otherwise)."""
        ...

    def copy_verified(self, key: str, sha256: str, target: Path) -> None:
        """Write the blob to `target`, checked against `sha256`; nothing is left at
        `target` when the check fails."""
        ...

    def local_file(self, key: str, sha256: str) -> Path:
        """A local, read-only file holding the blob's bytes, checked against `sha256`: the
        only way to reach a stored file as a path (to hard-link it into a run folder).
        The file is the store's: never write it."""
        ...

    def download_url(self, key: str, *, base_url: str, ttl: timedelta) -> str:
        """A URL anyone may GET (with `Range`) the blob from until `ttl` has passed."""
        ...

    def chunk_put_request(
        self, upload_id: str, number: int, size: int, *, base_url: str, ttl: timedelta
    ) -> PresignedRequest:
        """The signed request that sends chunk `number` (exactly `size` bytes); the answer
        carries an `ETag` the client confirms the chunk with."""
        ...

    def received_chunk(self, upload_id: str, number: int) -> tuple[int, str] | None:
        """(size, hash) of the chunk the store holds, None when it holds none; only for
        stores with `direct_chunks`."""
        ...

    def adopt_upload(
        self, upload_id: str, sizes: Sequence[int]
    ) -> AbstractContextManager[Adoption]:
        """Take an upload's bytes (chunks of these sizes, in order) to hash and publish;
        unless the block publishes them, the upload keeps them when it ends."""
        ...

    def discard_upload(self, upload_id: str) -> None:
        """Delete whatever the store holds of an upload (done, aborted or expired)."""
        ...

    def upload_lock_path(self, upload_id: str) -> Path:
        """The local lock file of an upload (see `crunch_cli.hub.uploads.UploadLock`)."""
        ...

    def upload_leftovers(self) -> Iterable[tuple[str, float]]:
        """(upload id, Unix time of its last change) for every upload the store holds
        files of, a pair per file."""
        ...

    def remove_unreferenced(self, referenced: Container[str], older_than: float) -> int:
        """Delete content blobs not in `referenced` and stored (or re-stored) before the
        Unix time `older_than`; returns how many went."""
        ...
