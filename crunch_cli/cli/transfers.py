"""Transfer progress that draws its bars only once bytes move.

`cli.output`'s progress opens its bars (and their `total` line) on entry. When every file
is already there (an unchanged push, an up-to-date download), that leaves an empty `total
0/0 bytes` bar on screen, and the one line per file that the command prints meanwhile is
written into it. These wrappers open the bars at the first file that has bytes to move;
until then, and for a command that moves none, each file gets its plain line. A file that
moves nothing while the bars are up (already on the hub, or on disk) is said after they
close, so that its line never lands inside them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from crunch_cli.cli.output import DownloadProgress, UploadProgress

if TYPE_CHECKING:
    from crunch_cli.download import Outcome, RemoteFile
    from crunch_cli.push.upload import Blob

Item = TypeVar("Item", contravariant=True)
Ending = TypeVar("Ending", contravariant=True)
_Item = TypeVar("_Item")
_Ending = TypeVar("_Ending")
_Self = TypeVar("_Self", bound="_OnceBytesMove[Any, Any]")


class _Bars(Protocol[Item, Ending]):
    """What `cli.output`'s progress classes have in common."""

    interactive: bool

    def __enter__(self) -> object: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def start(self, item: Item, done: int) -> None: ...

    def advance(self, item: Item, amount: int) -> None: ...

    def finish(self, item: Item, ending: Ending) -> None: ...


class _OnceBytesMove(Generic[_Item, _Ending]):
    """`make()`'s bars, opened at the first item with bytes left to move (see the module
    docstring); `key` names an item, `size` gives its size (-1: unknown, so moving)."""

    def __init__(
        self,
        make: Callable[..., _Bars[_Item, _Ending]],
        key: Callable[[_Item], str],
        size: Callable[[_Item], int],
    ) -> None:
        self._bars = make()
        self._plain = make(interactive=False)
        self._key = key
        self._size = size
        self._lock = threading.Lock()
        self._open = False
        self._on_bars: set[str] = set()
        self._held: list[tuple[_Item, _Ending]] = []

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._open:
            self._bars.__exit__(kind, error, traceback)
        for item, ending in self._held:
            self._plain.finish(item, ending)

    def _start(self, item: _Item, done: int) -> None:
        if not self._bars.interactive:
            self._bars.start(item, done)
            return
        with self._lock:
            size = self._size(item)
            if not self._open and (size < 0 or size > done):
                self._bars.__enter__()
                self._open = True
            if self._open:
                self._on_bars.add(self._key(item))
        if self._open:
            self._bars.start(item, done)

    def _advance(self, item: _Item, amount: int) -> None:
        if self._key(item) in self._on_bars:
            self._bars.advance(item, amount)

    def _finish(self, item: _Item, ending: _Ending) -> None:
        with self._lock:
            if self._key(item) not in self._on_bars:
                if self._open:
                    self._held.append((item, ending))
                else:
                    self._plain.finish(item, ending)
                return
        self._bars.finish(item, ending)


class Downloads(_OnceBytesMove["RemoteFile", "Outcome"]):
    """`DownloadProgress` whose bars open once a file has bytes to fetch."""

    def __init__(self) -> None:
        super().__init__(DownloadProgress, lambda file: file.name, lambda file: file.size)

    def start(self, file: RemoteFile, completed: int) -> None:
        self._start(file, completed)

    def advance(self, file: RemoteFile, amount: int) -> None:
        self._advance(file, amount)

    def finish(self, file: RemoteFile, outcome: Outcome) -> None:
        self._finish(file, outcome)


class Uploads(_OnceBytesMove["Blob", bool]):
    """`UploadProgress` whose bars open once a file has bytes to send."""

    def __init__(self) -> None:
        super().__init__(UploadProgress, lambda blob: blob.sha256, lambda blob: blob.size)

    def start(self, blob: Blob, already: int) -> None:
        self._start(blob, already)

    def advance(self, blob: Blob, amount: int) -> None:
        self._advance(blob, amount)

    def finish(self, blob: Blob, sent: bool) -> None:
        self._finish(blob, sent)
