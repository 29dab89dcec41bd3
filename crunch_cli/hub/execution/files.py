"""Where a job's bytes come from: the hub's own store, or signed URLs.

Either way `local_file` answers a local, read-only file whose bytes hash to the job's
sha256, checked before it is handed out: a run folder only ever gets verified bytes,
which it hard-links (the data, so a large file is never copied per run) or copies (the
submission's code, which the run may change).

`HubFiles` is the hub's own pool: the store already keeps verified local files (the blobs
themselves, or the S3 store's local copies). `FetchedFiles` is a worker elsewhere: it
downloads each file once from its URL (resuming a dropped connection with `Range`) into a
content-addressed cache of its own, `<cache>/sha256/ab/<sha256>`, shared by the runs of
that machine, and keeps it only if the bytes hash to the sha256 the job names.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from crunch_cli.errors import DownloadError
from crunch_cli.hub.blobs import content_key
from crunch_cli.hub.blobstores.cache import LocalCache
from crunch_cli.hub.execution.job import JobFile

if TYPE_CHECKING:
    from crunch_cli.hub.blobstores import BlobStorage

ATTEMPTS = 5
BACKOFF_SECONDS = 0.5
NETWORK_BLOCK = 1 << 20
_SHA256 = re.compile("[0-9a-f]{64}")


class FileSource(Protocol):
    def local_file(self, file: JobFile) -> Path:
        """A verified, read-only local file with the bytes of `file`; never write it."""
        ...


class HubFiles:
    """The hub's store, read directly (the local pool)."""

    def __init__(self, blobs: BlobStorage) -> None:
        self.blobs = blobs

    def local_file(self, file: JobFile) -> Path:
        return self.blobs.local_file(file.key, file.sha256)


class FetchedFiles:
    """Files fetched from their signed URLs into `cache` (see the module docstring)."""

    def __init__(self, cache: Path, sleep: Callable[[float], None] = time.sleep) -> None:
        self.cache = LocalCache(cache)
        self._sleep = sleep

    def local_file(self, file: JobFile) -> Path:
        if not _SHA256.fullmatch(file.sha256):
            raise DownloadError(
                f"the job names {file.path} with a malformed sha256",
                hint="the hub and its workers must run the same crunch version",
            )
        if file.url is None:
            raise DownloadError(
                f"the job gives no URL for {file.path}",
                hint="the hub must build jobs for workers with URLs (--executor ray)",
            )
        url = file.url
        return self.cache.get(
            content_key(file.sha256),
            file.sha256,
            lambda write: self._download(url, file, write),
        )

    def _download(self, url: str, file: JobFile, write: Callable[[bytes], object]) -> None:
        """Every byte of `file` to `write`, in order, exactly once; a dropped connection is
        resumed from where it stopped (the cache hashes what `write` receives)."""
        from crunch_cli.api import make_session
        from crunch_cli.api.streams import Dropped, open_download

        offset, failure = 0, "no attempt made"
        with make_session() as session:
            for attempt in range(ATTEMPTS):
                if attempt:
                    self._sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                try:
                    with open_download(session, url, offset) as response:
                        if response.status >= 400:
                            failure = f"the URL answered {response.status}"
                            if response.status in (403, 404):
                                break  # expired, refused or gone: asking again cannot help
                            continue
                        if offset and response.status != 206:
                            raise _error(file, "the server would not resume the download")
                        while piece := response.read(min(NETWORK_BLOCK, file.size - offset + 1)):
                            offset += len(piece)
                            if offset > file.size:
                                raise _error(file, f"more than the {file.size} bytes announced")
                            write(piece)
                    if offset == file.size:
                        return
                    failure = f"the body ended after {offset} of {file.size} bytes"
                except Dropped as error:
                    failure = str(error)
        raise _error(file, failure)


def _error(file: JobFile, problem: str) -> DownloadError:
    return DownloadError(
        f"could not fetch {file.path} for the run: {problem}",
        hint="check that the workers reach the hub's --public-url (or the blob store) and "
        "that the hub's clock is right (signed URLs expire)",
    )
