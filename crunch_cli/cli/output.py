"""Shared printing helpers of the Typer layer: safe lines and tables, transfer progress
and sizes.

`echo` and `add_row` are how commands print: what they print often comes from a hub, a log
or an exception, so it goes through `crunch_cli.terminal.shown` (no control sequences, no
secrets), and table cells are plain text, never rich markup.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from crunch_cli.terminal import shown

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID
    from rich.table import Table

    from crunch_cli.download import Outcome, RemoteFile
    from crunch_cli.push.upload import Blob


_Self = TypeVar("_Self", bound="_Transfers")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LimitOption = Annotated[int, typer.Option("--limit", min=0, help="Show at most this many.")]
ShowAllOption = Annotated[bool, typer.Option("--all", help="Show them all (no --limit).")]


def echo(message: object = "", *, err: bool = False, **style: Any) -> None:
    """`typer.secho`, made safe; `style` is typer's (fg, bold, dim, ...)."""
    typer.secho(shown(message), err=err, **style)


def add_row(table: Table, *cells: object) -> None:
    from rich.text import Text

    table.add_row(*(Text(shown(cell)) for cell in cells))


def print_skipped(skipped: dict[str, str]) -> None:
    """The submission files a checkout left out, and why (see `crunch_cli.submissions`)."""
    for path, reason in sorted(skipped.items()):
        echo(f"not restored: {path} ({reason})", err=True)


def limited(items: list[Any], limit: int | None, what: str) -> list[Any]:
    """The first `limit` items; says on stderr when some were left out and how to see them."""
    if limit is None or len(items) <= limit:
        return items
    echo(f"showing {limit} of {len(items)} {what}; --limit N or --all shows more", err=True)
    return items[:limit]


def print_json(value: Any) -> None:
    import json

    # JSON escapes control characters itself; secrets are masked like everywhere else.
    echo(json.dumps(value, indent=2))


def submission_selector(value: str) -> int | str:
    """A submission named on the command line: its number, or `@last`."""
    if value == "@last":
        return value
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter("a submission number, or @last") from None


def relative_path(path: Path) -> str:
    """`path` as the user would type it from the current folder, when it is under it."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def human_size(size: float) -> str:
    """Decimal units, as the transfer lines of download and push still print them; every
    other size goes through `crunch_cli.protocol.humanize.size` (binary units, as limits are
    counted), which these move to as well."""
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class _Transfers:
    """Rich bars (one per file, plus a total) on a terminal; plain lines otherwise (logs, CI).

    Subclasses adapt the core's progress protocol (downloads or uploads) to `_open`,
    `_advance` and `_line`. Files report from several threads at once.
    """

    def __init__(self, *, interactive: bool | None = None) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._total: TaskID | None = None

    def __enter__(self: _Self) -> _Self:
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}", markup=False),  # names come from a hub
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self._total = self._bar.add_task("total", total=0)
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _open(self, key: str, name: str, size: int, done: int) -> None:
        """A file starts (or restarts) with `done` of its `size` bytes already in place."""
        with self._lock:
            if self._bar is None or self._total is None:
                if done:
                    echo(f"{name}: resuming at {human_size(done)}", err=True)
                return
            known = self._bar.tasks[self._total].total or 0
            if key in self._tasks:
                previous = self._bar.tasks[self._tasks[key]].completed
                self._bar.update(self._tasks[key], completed=done)
                self._bar.advance(self._total, done - previous)
            else:
                self._tasks[key] = self._bar.add_task(
                    shown(name), total=size if size >= 0 else None, completed=done
                )
                self._bar.update(self._total, total=known + max(size, 0), completed=None)
                self._bar.advance(self._total, done)

    def _advance(self, key: str, amount: int) -> None:
        if self._bar is not None and self._total is not None:
            self._bar.advance(self._tasks[key], amount)
            self._bar.advance(self._total, amount)

    def _line(self, key: str, name: str, size: int, state: str) -> None:
        with self._lock:
            if self._bar is not None and key in self._tasks:
                self._bar.update(self._tasks[key], description=f"{shown(name)} ✓")
            else:
                sized = f" ({human_size(size)})" if size >= 0 else ""
                echo(f"{name}{sized}: {state}", err=True)


class DownloadProgress(_Transfers):
    def start(self, file: RemoteFile, completed: int) -> None:
        self._open(file.name, file.name, file.size, completed)

    def advance(self, file: RemoteFile, amount: int) -> None:
        self._advance(file.name, amount)

    def finish(self, file: RemoteFile, outcome: Outcome) -> None:
        self._line(file.name, file.name, file.size, outcome.value)


class UploadProgress(_Transfers):
    def start(self, blob: Blob, already: int) -> None:
        self._open(blob.sha256, blob.name, blob.size, already)

    def advance(self, blob: Blob, amount: int) -> None:
        self._advance(blob.sha256, amount)

    def finish(self, blob: Blob, sent: bool) -> None:
        state = "uploaded" if sent else "unchanged, not sent"
        self._line(blob.sha256, blob.name, blob.size, state)
