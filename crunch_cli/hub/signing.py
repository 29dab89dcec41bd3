"""Signed, expiring blob URLs, like an object store's presigned URLs.

`/blobs/<key>?expires=<unix>&signature=<hex>` where the signature is the HMAC-SHA256, under
the hub's secret, of the method, the path and the expiry. Whoever holds such a URL may do
that one method on that one blob until it expires, with no token: that is what lets data
downloads and chunk uploads go straight to the blob route.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import urlencode

BLOB_PREFIX = "/blobs/"


def signature(secret: bytes, method: str, path: str, expires: int) -> str:
    message = f"{method.upper()}\n{path}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign_blob_url(
    secret: bytes, base_url: str, key: str, *, method: str = "GET", ttl: timedelta
) -> str:
    path = BLOB_PREFIX + key
    expires = int(time.time() + ttl.total_seconds())
    query = urlencode({"expires": expires, "signature": signature(secret, method, path, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def is_valid(secret: bytes, method: str, path: str, expires: str, given: str) -> bool:
    """True when `given` signs this method+path+expiry and the expiry is in the future."""
    try:
        deadline = int(expires)
    except ValueError:
        return False
    if deadline < time.time():
        return False
    return hmac.compare_digest(signature(secret, method, path, deadline), given)
