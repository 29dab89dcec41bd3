"""Where the hub keeps its files: the `BlobStorage` interface and its two stores.

    base.py     the interface every caller uses (`store.blobs`), and the error a store
                that cannot be used right now raises (`StorageUnavailableError`)
    verify.py   hashing stored bytes against their recorded sha256
    cache.py    verified local copies of a remote store's blobs
    s3.py       an S3 bucket (`--blob-store s3://BUCKET/PREFIX`)

The folder store, the default (ROOT/blobs), is `crunch_cli.hub.blobs.BlobStore`; the keys
both stores use are made there too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crunch_cli.hub.blobstores.base import (
    Adoption,
    BlobStorage,
    PresignedRequest,
    StorageUnavailableError,
)

if TYPE_CHECKING:
    from crunch_cli.hub.settings import HubSettings

__all__ = [
    "Adoption",
    "BlobStorage",
    "PresignedRequest",
    "StorageUnavailableError",
    "check_access",
    "open_blob_store",
]


def open_blob_store(settings: HubSettings, secret: bytes) -> BlobStorage:
    """The store `settings.blob_store` names (None: the folder under the root)."""
    if settings.blob_store is None:
        from crunch_cli.hub.blobs import BlobStore

        return BlobStore(settings.blobs_dir, secret)
    from crunch_cli.hub.blobstores.s3 import S3BlobStore, S3Location

    return S3BlobStore(
        S3Location.parse(settings.blob_store),
        settings.blob_cache_dir,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
    )


def check_access(blobs: BlobStorage) -> None:
    """Make sure a hub about to serve can use its store, or raise a CrunchError saying why.

    Only a remote store is checked (a marker written, read, listed and deleted): the folder
    store's folder is made when the hub opens it, and the hub writes its root at once.
    """
    from crunch_cli.hub.blobstores.s3 import S3BlobStore

    if isinstance(blobs, S3BlobStore):
        blobs.check_access()
