"""Signed blob URLs for downloads, with `Range`; the chunk PUT lives with the uploads.

On a store that gives out its own URLs (S3) the hub signs none; a URL the hub signed
earlier is still honoured, by a redirect to the store's own URL for the same file.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from crunch_cli.hub.blobs import BlobKeyError, BlobStore
from crunch_cli.hub.deps import BaseUrlDep, StoreDep
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.signing import BLOB_PREFIX, is_valid
from crunch_cli.hub.store import HubStore

router = APIRouter()


class _BlobResponse(FileResponse):
    # Starlette reads 64 KiB at a time, a thread hop each; 1 MiB keeps loopback
    # downloads close to what curl gets from a plain file server.
    chunk_size = 1024 * 1024


def check_signature(store: HubStore, request: Request, key: str, method: str) -> None:
    """Refuse unless the URL's signature is good for `method` on this key and unexpired."""
    query = request.query_params
    if not is_valid(
        store.secret,
        method,
        BLOB_PREFIX + key,
        query.get("expires", ""),
        query.get("signature", ""),
    ):
        raise HubApiError(403, "ACCESS_DENIED", "this signed URL is invalid or has expired")


@router.get(BLOB_PREFIX + "{key:path}")
# HEAD answers the same, outside the schema: one operation per path and method there.
@router.head(BLOB_PREFIX + "{key:path}", include_in_schema=False)
def download(key: str, request: Request, store: StoreDep, base_url: BaseUrlDep) -> Response:
    # A URL signed for GET may also be used for HEAD, as object stores allow.
    check_signature(store, request, key, "GET")
    blobs = store.blobs
    try:
        if not isinstance(blobs, BlobStore):
            url = blobs.download_url(key, base_url=base_url, ttl=store.settings.signed_url_ttl)
            return RedirectResponse(url, status_code=307)
        path = blobs.path(key)
    except BlobKeyError:
        raise HubApiError(403, "ACCESS_DENIED", "this signed URL is invalid") from None
    if not path.is_file():
        raise not_found("BLOB_NOT_FOUND", "this file is no longer on the hub")
    return _BlobResponse(path, media_type="application/octet-stream")
