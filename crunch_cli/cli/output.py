"""Shared printing helpers of the Typer layer: progress bars and sizes."""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from crunch_cli.download import Outcome, RemoteFile
    from crunch_cli.push.upload import Blob


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class DownloadProgress:
    """A rich bar per file on a terminal; one plain line per file event otherwise (logs, CI)."""

    def __init__(self, *, interactive: bool | None = None) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._lock = threading.Lock()
        self._bar: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> DownloadProgress:
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
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
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

    def start(self, file: RemoteFile, completed: int) -> None:
        with self._lock:
            if self._bar is not None:
                total = file.size if file.size >= 0 else None
                if file.name in self._tasks:
                    self._bar.update(self._tasks[file.name], completed=completed)
                else:
                    self._tasks[file.name] = self._bar.add_task(
                        file.name, total=total, completed=completed
                    )
            elif completed:
                typer.echo(f"{file.name}: resuming at {human_size(completed)}", err=True)

    def advance(self, file: RemoteFile, amount: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._tasks[file.name], amount)

    def finish(self, file: RemoteFile, outcome: Outcome) -> None:
        with self._lock:
            if self._bar is not None and file.name in self._tasks:
                self._bar.update(self._tasks[file.name], description=f"{file.name} ✓")
            else:
                size = f" ({human_size(file.size)})" if file.size >= 0 else ""
                typer.echo(f"{file.name}{size}: {outcome.value}", err=True)


class UploadProgress:
    """One bar for the total bytes to send and one per file on a terminal; quiet otherwise."""

    def __init__(self, *, interactive: bool | None = None) -> None:
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._lock = threading.Lock()
        self._bar: RichProgress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._total: TaskID | None = None

    def __enter__(self) -> UploadProgress:
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TransferSpeedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
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

    def start(self, blob: Blob, already: int) -> None:
        with self._lock:
            if self._bar is not None and self._total is not None:
                self._tasks[blob.sha256] = self._bar.add_task(
                    blob.name, total=blob.size, completed=already
                )
                total = self._bar.tasks[self._total].total or 0
                self._bar.update(self._total, total=total + blob.size - already)
            elif already:
                typer.echo(f"{blob.name}: resuming at {human_size(already)}", err=True)

    def advance(self, blob: Blob, amount: int) -> None:
        if self._bar is not None and self._total is not None:
            self._bar.advance(self._tasks[blob.sha256], amount)
            self._bar.advance(self._total, amount)

    def finish(self, blob: Blob, sent: bool) -> None:
        if self._bar is None:
            state = "uploaded" if sent else "unchanged, not sent"
            typer.echo(f"{blob.name} ({human_size(blob.size)}): {state}", err=True)
