"""Files the hub serves and receives, kept under one folder and named by opaque keys.

Data files are content-addressed (`sha256/ab/abcd...`), so registering the same file twice
stores it once. Upload chunks are written in place at their offset in `uploads/<id>`, so
completing a large upload never copies it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

COPY_BUFFER = 1024 * 1024
_KEY = re.compile(r"^[a-z0-9]+(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)+$")


class BlobKeyError(ValueError):
    """Raised for a key that could step outside the blob folder."""


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise BlobKeyError(key)
        return self.root / key

    def put_file(self, source: Path) -> tuple[str, int, str]:
        """Copy `source` in while hashing it; returns (key, size, sha256)."""
        digest = hashlib.sha256()
        size = 0
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming.")
        try:
            with open(source, "rb") as reader, os.fdopen(fd, "wb") as writer:
                while chunk := reader.read(COPY_BUFFER):
                    digest.update(chunk)
                    writer.write(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
            key = content_key(sha256)
            target = self.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key, size, sha256

    def adopt(self, key: str, sha256: str) -> str:
        """Give the blob at `key` its content address too (a hard link, no copy)."""
        target_key = content_key(sha256)
        target = self.path(target_key)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # The same content may have arrived through another upload meanwhile.
            with contextlib.suppress(FileExistsError):
                os.link(self.path(key), target)
        return target_key

    def remove(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def content_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


def upload_key(upload_id: str) -> str:
    return f"uploads/{upload_id}"
