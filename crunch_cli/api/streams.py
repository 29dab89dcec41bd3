"""Byte streams to and from signed URLs, for the resumable transfers of `crunch_cli.download`
and `crunch_cli.push.upload`.

What the transfers need from HTTP is small: open a URL from an offset and read what has
arrived, and send a body that can stop between blocks. Everything `requests` and `urllib3`
raise when a connection is cut or times out becomes one `Dropped`, which the caller answers
by resuming.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

    Session = requests.Session

# Connect, then between two reads.
TIMEOUT = (10, 60)


class Dropped(Exception):
    """The connection was cut or went silent mid-transfer; `str()` is the reason."""


class Download:
    """An open response: its status and a reader of what has arrived so far."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self.status = response.status_code

    def read(self, limit: int) -> bytes:
        """Up to `limit` bytes, as soon as any arrive; b"" at the end of the body."""
        with _dropped_on_network_errors():
            return bytes(self._response.raw.read1(limit))


@contextlib.contextmanager
def open_download(session: Session, url: str, offset: int) -> Iterator[Download]:
    """GET `url` from byte `offset` (a `Range` request), uncompressed so ranges hold."""
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    with (
        _dropped_on_network_errors(),
        session.get(url, headers=headers, stream=True, timeout=TIMEOUT) as response,
    ):
        yield Download(response)


class Body:
    """A request body read from `read(offset, size)` a block at a time, calling `check`
    whenever the HTTP stack asks for more: a `check` that raises ends the request at once,
    whatever its size.

    `tell`/`seek` let urllib3 rewind it when it retries the request.
    """

    BLOCK = 1 << 20

    def __init__(
        self, read: Callable[[int, int], bytes], size: int, check: Callable[[], None]
    ) -> None:
        self._read = read
        self._size = size
        self._check = check
        self._position = 0
        self._block = b""
        self._block_start = 0

    def __len__(self) -> int:
        return self._size

    def read(self, amount: int | None = -1) -> bytes:
        self._check()
        left = self._size - self._position
        amount = left if amount is None or amount < 0 else min(amount, left)
        if amount <= 0:
            return b""
        inside = self._position - self._block_start
        if not 0 <= inside < len(self._block):
            self._block = self._read(self._position, min(self.BLOCK, left))
            self._block_start, inside = self._position, 0
        data = self._block[inside : inside + amount]
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}[whence]
        self._position = min(max(base + offset, 0), self._size)
        return self._position


@contextlib.contextmanager
def _dropped_on_network_errors() -> Iterator[None]:
    import requests
    import urllib3

    try:
        yield
    except (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.HTTPError,  # raw reads: a cut connection, a read timeout
    ) as error:
        raise Dropped(type(error).__name__) from error
