"""Hashing stored bytes against the sha256 recorded for them.

Every use of a stored file checks its bytes, but hashing a large data file before every run
would cost more than the run. `VerifiedFiles` remembers, per process, the files it has
hashed with the identity they had then (device, inode, size, modification time): a file
still the same is not read again, one written since (or replaced) is hashed anew.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from crunch_cli.errors import BlobIntegrityError

COPY_BUFFER = 1024 * 1024

_Identity = tuple[int, int, int, int]


def check_digest(key: str, expected: str, actual: str) -> None:
    if actual != expected:
        raise BlobIntegrityError(
            key, f"its bytes hash to sha256 {actual[:12]}…, not {expected[:12]}…"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(COPY_BUFFER):
            digest.update(piece)
    return digest.hexdigest()


def _identity(path: Path) -> _Identity:
    status = path.stat()
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


class VerifiedFiles:
    """Local files known to hash to a given sha256 (see the module's docstring)."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[_Identity, str]] = {}
        self._lock = threading.Lock()

    def check(self, path: Path, key: str, sha256: str) -> None:
        """Return if `path` holds the bytes of `sha256`, else raise BlobIntegrityError
        (a missing file included)."""
        try:
            before = _identity(path)
        except FileNotFoundError:
            raise BlobIntegrityError(key, "it is missing") from None
        with self._lock:
            if self._known.get(path) == (before, sha256):
                return
        check_digest(key, sha256, file_sha256(path))
        # Remembered only if nothing changed the file while it was read.
        if _identity(path) == before:
            with self._lock:
                self._known[path] = (before, sha256)

    def forget(self, path: Path) -> None:
        with self._lock:
            self._known.pop(path, None)
