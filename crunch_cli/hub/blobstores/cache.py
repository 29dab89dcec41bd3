"""Local copies of a remote store's content blobs, for what needs a file on disk.

A run hard-links its data and reads its code from local files, so a store that lives
elsewhere (S3) keeps a copy of each blob a run used in a folder under the hub's root.
A copy is written under a private name while its bytes are hashed, kept only if they hash
to the blob's sha256, made read-only and linked into place without replacing anything:
the folder only ever holds verified copies, filled once and shared by every later run.
Each use checks the copy again (`VerifiedFiles`: cheap while the file is unchanged).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from crunch_cli.errors import BlobIntegrityError, InsufficientStorageError
from crunch_cli.hub.blobs import is_disk_full
from crunch_cli.hub.blobstores.verify import VerifiedFiles, check_digest

READ_ONLY = 0o444
TEMPORARY_PREFIX = ".incoming."

# Passes the blob's bytes, piece by piece, to the function it is given.
Fetch = Callable[[Callable[[bytes], object]], None]


class LocalCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._verified = VerifiedFiles()

    def path(self, key: str) -> Path:
        """Where the copy of the blob at `key` (a checked key) lives."""
        return self.root / key

    def get(self, key: str, sha256: str, fetch: Fetch) -> Path:
        """The verified copy, fetched first if there is none (or a damaged one)."""
        path = self.path(key)
        with contextlib.suppress(BlobIntegrityError):
            self._verified.check(path, key, sha256)
            return path
        self.discard(key)
        with self.temporary() as (writer, temporary):
            digest = hashlib.sha256()

            def write(piece: bytes) -> None:
                digest.update(piece)
                writer.write(piece)

            fetch(write)
            writer.flush()
            check_digest(key, sha256, digest.hexdigest())
            self.adopt(temporary, key)
        self._verified.check(path, key, sha256)
        return path

    def adopt(self, temporary: Path, key: str) -> None:
        """Make a finished, verified file at `temporary` the copy of `key` (kept as it is
        if another thread placed one first)."""
        path = self.path(key)
        with _disk_space(self.root):
            temporary.chmod(READ_ONLY)
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)

    def discard(self, key: str) -> None:
        path = self.path(key)
        self._verified.forget(path)
        path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def temporary(self) -> Iterator[tuple[BinaryIO, Path]]:
        """A private file in the cache folder, deleted when the block ends."""
        with _disk_space(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.root, prefix=TEMPORARY_PREFIX)
        temporary = Path(name)
        try:
            with _disk_space(self.root), os.fdopen(fd, "wb") as writer:
                yield writer, temporary
        finally:
            temporary.unlink(missing_ok=True)

    def remove_abandoned(self, older_than: float) -> None:
        """Temporary files a killed hub left behind."""
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.root):
                if entry.name.startswith(TEMPORARY_PREFIX):
                    with contextlib.suppress(FileNotFoundError):
                        if entry.stat().st_mtime < min(older_than, time.time()):
                            Path(entry.path).unlink()


@contextlib.contextmanager
def _disk_space(where: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if is_disk_full(error):
            raise InsufficientStorageError(str(where)) from error
        raise
