"""Where the hub keeps its files: the `BlobStorage` interface and its two stores.

    base.py     the interface every caller uses (`store.blobs`)
    verify.py   hashing stored bytes against their recorded sha256
    cache.py    verified local copies of a remote store's blobs
    s3.py       an S3 bucket (`--blob-store s3://BUCKET/PREFIX`)

The folder store, the default (ROOT/blobs), is `crunch_cli.hub.blobs.BlobStore`; the keys
both stores use are made there too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crunch_cli.hub.blobstores.base import Adoption, BlobStorage, PresignedRequest

if TYPE_CHECKING:
    from crunch_cli.hub.settings import HubSettings

__all__ = ["Adoption", "BlobStorage", "PresignedRequest", "open_blob_store"]


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
