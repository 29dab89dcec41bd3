"""The hub's files in an S3 bucket (AWS, or any S3-compatible store: MinIO, SeaweedFS, ...).

`--blob-store s3://BUCKET/PREFIX` keeps every key under `PREFIX/` in `BUCKET`. The endpoint,
region and credentials come from the usual AWS settings (AWS_ENDPOINT_URL, AWS_REGION or
AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile), or from
`--s3-endpoint-url`.

Clients never send or fetch bytes through the hub: data files and a submission's files are
presigned GET URLs of their objects (`Range` works, so downloads resume), and each upload
chunk is a presigned PUT of an object of its own, `uploads/<id>/chunks/<n>`, whose length is
part of the signature. The store answers the PUT with an `ETag`, which the client confirms
as HUB_API.md says; the hub checks it against the object's own (`received_chunk`), so a
chunk of any size works, as on the folder store. Completing reads the chunks back in order
(each must still have its confirmed ETag), hashes them into one file and stores that under
its sha256: a content blob's key is always the hash of bytes the hub read itself.

Whatever needs a file on disk (a run's data and code) gets a verified local copy
(`LocalCache`); every read checks the bytes against the sha256 recorded for them, so a
bucket changed behind the hub's back fails the use, with the key and both hashes named.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import threading
import uuid
from collections.abc import Callable, Container, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crunch_cli.errors import BlobIntegrityError
from crunch_cli.hub.blobs import (
    CONTENT_PREFIX,
    GC_LOCK_FILE,
    LOCK_SUFFIX,
    UPLOADS_FOLDER,
    check_key,
    chunk_key,
    content_key,
    upload_key,
    upload_lock_key,
)
from crunch_cli.hub.blobstores.base import PresignedRequest, StorageUnavailableError
from crunch_cli.hub.blobstores.cache import LocalCache
from crunch_cli.hub.blobstores.verify import COPY_BUFFER, check_digest

SCHEME = "s3"
# The longest a SigV4 presigned URL may live.
MAX_URL_SECONDS = 7 * 24 * 3600
DELETE_BATCH = 1000
# Where the start-up check writes its marker: outside the hub's keys (`sha256/`,
# `uploads/`), so neither the janitor nor a listing of the hub's files ever sees one.
CHECK_FOLDER = "start-up-checks"
CHECK_CONTENT = b"written and deleted by a crunch hub checking its access at start-up\n"
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_CREDENTIALS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "403",
}


class ObjectStoreError(StorageUnavailableError):
    """Raised when the S3 store cannot be used: unreachable, a missing bucket, refused
    credentials, an `s3://` URL that names no bucket."""


@dataclasses.dataclass(frozen=True)
class S3Location:
    """`s3://BUCKET/PREFIX`: where the hub's keys live."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != SCHEME or not parts.netloc or parts.query or parts.fragment:
            raise ObjectStoreError(
                f"{url!r} is not an S3 location",
                hint="pass --blob-store s3://BUCKET/PREFIX (or leave it out for ROOT/blobs)",
            )
        return cls(parts.netloc, parts.path.strip("/"))

    def name(self, key: str) -> str:
        """The object name of a hub key."""
        return f"{self.prefix}/{key}" if self.prefix else key

    def key(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def normalized_etag(etag: str) -> str:
    return etag.strip().strip('"').lower()


class S3BlobStore:
    """`BlobStorage` on S3 (see the module's docstring). `cache_dir` holds the local copies,
    the upload lock files and the janitor's lock; it belongs to this hub root only."""

    direct_chunks = True

    def __init__(
        self,
        location: S3Location,
        cache_dir: Path,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.location = location
        self.cache = LocalCache(cache_dir)
        self._endpoint_url = endpoint_url
        self._region = region
        self._client_lock = threading.Lock()
        self._client_instance: Any = None

    # -- content blobs -------------------------------------------------------------------

    def put_file(self, source: Path) -> tuple[str, int, str]:
        """Copy `source` into a private file while hashing it, then store that file: the
        bytes stored are the bytes hashed, whatever happens to `source` meanwhile."""
        with self.cache.temporary() as (writer, temporary):
            digest = hashlib.sha256()
            size = 0
            with open(source, "rb") as reader:
                while piece := reader.read(COPY_BUFFER):
                    digest.update(piece)
                    writer.write(piece)
                    size += len(piece)
            writer.flush()
            sha256 = digest.hexdigest()
            return self._publish(temporary, sha256), size, sha256

    def exists(self, key: str) -> bool:
        return self._head(check_key(key)) is not None

    def read_verified(self, key: str, sha256: str, max_bytes: int) -> bytes:
        """From the local copy when there is one, else straight from the bucket."""
        copy = self.cache.path(check_key(key))
        if copy.is_file():
            return self._read_file(self.local_file(key, sha256), key, sha256, max_bytes)
        content = bytearray()
        for piece in self._get(key, last_byte=max_bytes):
            content += piece
        if len(content) > max_bytes:
            raise self._integrity(key, f"it holds more than the {max_bytes} bytes expected")
        check_digest(key, sha256, hashlib.sha256(content).hexdigest())
        return bytes(content)

    def copy_verified(self, key: str, sha256: str, target: Path) -> None:
        source = self.local_file(key, sha256)
        digest = hashlib.sha256()
        try:
            with open(source, "rb") as reader, open(target, "wb") as writer:
                while piece := reader.read(COPY_BUFFER):
                    digest.update(piece)
                    writer.write(piece)
            check_digest(key, sha256, digest.hexdigest())
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def local_file(self, key: str, sha256: str) -> Path:
        """The verified local copy, downloaded once."""

        def fetch(write: Callable[[bytes], object]) -> None:
            for piece in self._get(key):
                write(piece)

        try:
            return self.cache.get(check_key(key), sha256, fetch)
        except BlobIntegrityError as error:
            error.hint = self._integrity_hint()
            raise

    def download_url(self, key: str, *, base_url: str, ttl: timedelta) -> str:
        return self._presign("get_object", key, ttl)

    def remove_unreferenced(self, referenced: Container[str], older_than: float) -> int:
        removed = 0
        with self.gc_lock(exclusive=True):
            stale = [
                key
                for key, modified in self._list(CONTENT_PREFIX + "/")
                if key not in referenced and modified < older_than
            ]
            self._delete(stale)
            for key in stale:
                self.cache.discard(key)
                removed += 1
            self.cache.remove_abandoned(older_than)
        return removed

    @contextlib.contextmanager
    def gc_lock(self, *, exclusive: bool) -> Iterator[None]:
        """As the folder's: publishing shares it, the janitor's sweep holds it alone (one
        machine's hubs; hubs on other machines rely on the sweep's grace period)."""
        self.cache.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.cache.root / GC_LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    # -- start-up ------------------------------------------------------------------------

    def check_access(self) -> None:
        """Write, read back, list and delete a small marker object under the prefix: a hub
        that starts on a bucket it cannot use (a wrong endpoint, bucket or key, a key that
        may not write) says so at once, instead of failing its competitors' first pushes.
        Raises ObjectStoreError naming what went wrong."""
        name = self.location.name(f"{CHECK_FOLDER}/{uuid.uuid4().hex}")
        bucket = self.location.bucket
        try:
            # First: some stores make a missing bucket on the first write to it.
            with self._translated():
                self._client.head_bucket(Bucket=bucket)
        except _Missing:
            raise ObjectStoreError(
                f"the bucket of {self.location} does not exist",
                hint="create it, or pass another --blob-store s3://BUCKET/PREFIX",
            ) from None
        with self._translated():
            self._client.put_object(Bucket=bucket, Key=name, Body=CHECK_CONTENT)
        try:
            with self._translated():
                content = self._client.get_object(Bucket=bucket, Key=name)["Body"].read()
                self._client.list_objects_v2(Bucket=bucket, Prefix=name, MaxKeys=1)
        except _Missing:
            content = b""
        finally:
            with self._translated():
                self._client.delete_object(Bucket=bucket, Key=name)
        if content != CHECK_CONTENT:
            raise ObjectStoreError(
                f"the S3 store of {self.location} does not give back what the hub wrote to it",
                hint="check that --s3-endpoint-url (or AWS_ENDPOINT_URL) is an S3-compatible "
                "store, not a proxy or cache in front of one",
            )

    # -- uploads -------------------------------------------------------------------------

    def chunk_put_request(
        self, upload_id: str, number: int, size: int, *, base_url: str, ttl: timedelta
    ) -> PresignedRequest:
        url = self._presign("put_object", chunk_key(upload_id, number), ttl, ContentLength=size)
        return {
            "method": "PUT",
            "url": url,
            "headers": {"Content-Type": "application/octet-stream"},
        }

    def received_chunk(self, upload_id: str, number: int) -> tuple[int, str] | None:
        found = self._head(chunk_key(upload_id, number))
        if found is None:
            return None
        return int(found["ContentLength"]), normalized_etag(found["ETag"])

    @contextlib.contextmanager
    def adopt_upload(self, upload_id: str, sizes: Sequence[int]) -> Iterator[_Adoption]:
        """Read the chunks back into one private file, hashing the whole; each chunk's
        hash is the ETag it had when read ("" when missing or not of its planned size)."""
        with self.cache.temporary() as (writer, temporary):
            whole = hashlib.sha256()
            hashes = []
            for number, size in enumerate(sizes, 1):
                received = 0
                etag = ""
                with contextlib.suppress(_Missing):
                    pieces, etag = self._get_with_etag(chunk_key(upload_id, number))
                    for piece in pieces:
                        whole.update(piece)
                        writer.write(piece)
                        received += len(piece)
                hashes.append(etag if received == size else "")
            writer.flush()
            yield _Adoption(self, upload_id, temporary, hashes, whole.hexdigest())

    def discard_upload(self, upload_id: str) -> None:
        prefix = upload_key(upload_id) + "/"
        check_key(prefix + "chunks")
        self._delete([key for key, _modified in self._list(prefix)])

    def upload_lock_path(self, upload_id: str) -> Path:
        path = self.cache.root / check_key(upload_lock_key(upload_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def upload_leftovers(self) -> Iterator[tuple[str, float]]:
        for key, modified in self._list(UPLOADS_FOLDER + "/"):
            parts = key.split("/")
            if len(parts) > 2:
                yield parts[1], modified
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.cache.root / UPLOADS_FOLDER):
                with contextlib.suppress(FileNotFoundError):
                    yield entry.name.removesuffix(LOCK_SUFFIX), entry.stat().st_ctime

    # -- the bucket ----------------------------------------------------------------------

    def _publish(self, temporary: Path, sha256: str) -> str:
        """Store the finished file at its content key, unless the bucket has it already
        (then its time is refreshed, so the janitor's grace period starts again), and
        keep the file as the key's local copy."""
        key = content_key(sha256)
        with self.gc_lock(exclusive=False):
            if not self._refresh(key):
                with self._translated():
                    self._client.upload_file(
                        str(temporary), self.location.bucket, self.location.name(key)
                    )
        self.cache.adopt(temporary, key)
        return key

    def _refresh(self, key: str) -> bool:
        """Copy the object onto itself (a new modification time); False when missing."""
        name = self.location.name(key)
        try:
            with self._translated():
                self._client.copy_object(
                    Bucket=self.location.bucket,
                    Key=name,
                    CopySource={"Bucket": self.location.bucket, "Key": name},
                    MetadataDirective="REPLACE",
                    Metadata={"stored-by": "crunch-hub"},
                )
        except _Missing:
            return False
        except ObjectStoreError:
            # A store that refuses copies onto themselves (or an object over 5 GB): the
            # upload that follows stores the same bytes again, with a new time.
            return False
        return True

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            with self._translated():
                found: dict[str, Any] = self._client.head_object(
                    Bucket=self.location.bucket, Key=self.location.name(key)
                )
        except _Missing:
            return None
        return found

    def _get(self, key: str, last_byte: int | None = None) -> Iterator[bytes]:
        """The object's bytes (up to `last_byte`, included), piece by piece."""
        try:
            pieces, _etag = self._get_with_etag(check_key(key), last_byte)
        except _Missing:
            raise self._integrity(key, "it is missing from the bucket") from None
        except _Unsatisfiable:  # a range of an empty object
            return iter(())
        return pieces

    def _get_with_etag(self, key: str, last_byte: int | None = None) -> tuple[Iterator[bytes], str]:
        extra = {} if last_byte is None else {"Range": f"bytes=0-{last_byte}"}
        with self._translated():
            response = self._client.get_object(
                Bucket=self.location.bucket, Key=self.location.name(key), **extra
            )
        body = response["Body"]

        def pieces() -> Iterator[bytes]:
            with self._translated(), contextlib.closing(body):
                yield from body.iter_chunks(COPY_BUFFER)

        return pieces(), normalized_etag(response.get("ETag", ""))

    def _list(self, prefix: str) -> Iterator[tuple[str, float]]:
        """(key, Unix modification time) of every object under the hub key `prefix`."""
        paginator = self._client.get_paginator("list_objects_v2")
        with self._translated():
            for page in paginator.paginate(
                Bucket=self.location.bucket, Prefix=self.location.name(prefix)
            ):
                for item in page.get("Contents", []):
                    yield self.location.key(item["Key"]), item["LastModified"].timestamp()

    def _delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            with self._translated():
                self._client.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={
                        "Objects": [{"Key": self.location.name(key)} for key in batch],
                        "Quiet": True,
                    },
                )

    def _presign(self, operation: str, key: str, ttl: timedelta, **params: Any) -> str:
        seconds = max(1, min(int(ttl.total_seconds()), MAX_URL_SECONDS))
        with self._translated():
            url: str = self._client.generate_presigned_url(
                operation,
                Params={
                    "Bucket": self.location.bucket,
                    "Key": self.location.name(check_key(key)),
                    **params,
                },
                ExpiresIn=seconds,
            )
        return url

    def _integrity(self, key: str, problem: str) -> BlobIntegrityError:
        error = BlobIntegrityError(key, problem)
        error.hint = self._integrity_hint()
        return error

    def _integrity_hint(self) -> str:
        return (
            f"the object in {self.location} was changed or deleted outside the hub: restore it "
            "from a backup (or a versioned copy), or ask the owner to push again"
        )

    @staticmethod
    def _read_file(path: Path, key: str, sha256: str, max_bytes: int) -> bytes:
        with open(path, "rb") as reader:
            content = reader.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise BlobIntegrityError(key, f"it holds more than the {max_bytes} bytes expected")
        check_digest(key, sha256, hashlib.sha256(content).hexdigest())
        return content

    @property
    def _client(self) -> Any:
        """The boto3 client, made on first use: organizer commands that never touch a
        file (minting a token) do not pay for importing boto3."""
        with self._client_lock:
            if self._client_instance is None:
                self._client_instance = _make_client(self._endpoint_url, self._region)
            return self._client_instance

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """botocore's errors as ObjectStoreError (a missing object as `_Missing`)."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            HTTPClientError,
            NoCredentialsError,
        )
        from botocore.exceptions import ConnectionError as Unreachable

        where = str(self.location)
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise _Missing(code) from error
            if code == "InvalidRange":
                raise _Unsatisfiable(code) from error
            if code == "NoSuchBucket":
                raise ObjectStoreError(
                    f"the bucket of {where} does not exist",
                    hint="create it, or pass another --blob-store s3://BUCKET/PREFIX",
                ) from error
            if code in _CREDENTIALS:
                raise ObjectStoreError(
                    f"the S3 store refused the hub's credentials for {where} ({code})",
                    hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) to "
                    "a key that may read, write, list and delete in that bucket",
                ) from error
            raise ObjectStoreError(
                f"the S3 store failed for {where}: {error}",
                hint="check the store's state and the hub's access to it, then try again",
            ) from error
        except (Unreachable, HTTPClientError) as error:
            raise ObjectStoreError(
                f"cannot reach the S3 store of {where}: {error}",
                hint="check --s3-endpoint-url (or AWS_ENDPOINT_URL) and that the store is up",
            ) from error
        except NoCredentialsError as error:
            raise ObjectStoreError(
                f"no credentials for the S3 store {where}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
            ) from error
        except BotoCoreError as error:
            raise ObjectStoreError(
                f"cannot use the S3 store {where}: {error}",
                hint="check --s3-endpoint-url (or AWS_ENDPOINT_URL) and that the store is up",
            ) from error


class _Missing(Exception):
    """The object asked for is not in the bucket."""


class _Unsatisfiable(Exception):
    """The range asked for starts past the object's end."""


class _Adoption:
    """An upload's chunks read back into one private file (`S3BlobStore.adopt_upload`)."""

    def __init__(
        self,
        store: S3BlobStore,
        upload_id: str,
        path: Path,
        chunk_hashes: list[str],
        sha256: str,
    ) -> None:
        self._store = store
        self._upload_id = upload_id
        self.path = path
        self.chunk_hashes = chunk_hashes
        self.sha256: str | None = sha256

    def publish(self) -> str:
        assert self.sha256 is not None
        key = self._store._publish(self.path, self.sha256)
        self._store.discard_upload(self._upload_id)
        return key


def _make_client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or None
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    config = Config(
        signature_version="s3v4",
        # Path-style URLs work on every S3-compatible store; AWS keeps its own default.
        s3={"addressing_style": "path"} if endpoint_url else {},
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=64,
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region or ("us-east-1" if endpoint_url else None),
        config=config,
    )
