"""A run's log as the hub stores it: bounded, yet readable while the run goes on.

Whatever a submission prints, the stored log keeps the first `HEAD_LINES` and the last
`TAIL_LINES` lines of the run, with one line between them saying how many were left out,
and cuts any line longer than `MAX_LINE_LENGTH` with a visible mark, as crunch-cli's cloud
runner keeps a head and a tail. The middle is pruned as the run goes, not at its end, so a
run printing forever cannot fill the database, and a follower who keeps up (`logs?after=`)
still sees every line before it is pruned.

Every line counts, whoever wrote it: the environment build's output goes through the hub's
own lines and depends on the submission's requirements too.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, update

from crunch_cli.hub.models import RunLog, utcnow
from crunch_cli.hub.runs import HUB, RUNNER, USER
from crunch_cli.hub.store import HubStore

logger = logging.getLogger(__name__)

HEAD_LINES = 1_000
TAIL_LINES = 4_000
MAX_LINE_LENGTH = 4_000
FLUSH_SECONDS = 0.2
USER_SOURCES = ("stdout", "stderr")


@dataclasses.dataclass(frozen=True)
class LogLine:
    emitter: str
    content: str
    error: bool = False
    created_at: datetime = dataclasses.field(default_factory=utcnow)

    def row(self, run_id: int) -> RunLog:
        return RunLog(
            run_id=run_id,
            emitter=self.emitter,
            error=self.error,
            content=self.content,
            created_at=self.created_at,
        )


def cut(content: str) -> str:
    if len(content) <= MAX_LINE_LENGTH:
        return content
    left_out = len(content) - MAX_LINE_LENGTH
    return f"{content[:MAX_LINE_LENGTH]} [line cut: {left_out:,} more characters]"


def omission(count: int) -> str:
    return (
        f"[{count:,} lines left out: the hub keeps the first {HEAD_LINES:,} and the last "
        f"{TAIL_LINES:,} lines of a run]"
    )


class LogSink:
    """Collects a run's lines as they arrive and stores them every `FLUSH_SECONDS`, so a
    chatty submission costs one short transaction per batch rather than one per line.

    Lines past the head wait in a queue no longer than the tail, so a burst between two
    flushes costs no more memory than the stored log.
    """

    def __init__(self, store: HubStore, run_id: int, paths: Mapping[Path, str] = {}) -> None:
        """`paths` maps host folders to what the log says instead (the sandbox's view of
        them): the hub's own paths are nobody's business, and would only confuse."""
        self.store = store
        self.run_id = run_id
        self._paths = sorted(
            ((str(path), shown) for path, shown in paths.items()), key=lambda item: -len(item[0])
        )
        self._lock = threading.Lock()
        self._head_left = HEAD_LINES
        self._head: list[LogLine] = []
        self._tail: deque[LogLine] = deque()
        self._dropped = 0  # tail lines pushed out before they were stored
        # What is stored, touched by the flushing thread only.
        self._stored_tail: deque[int] = deque()  # row ids after the head, oldest first
        self._marker: int | None = None  # the row that counts the lines left out
        self._omitted = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._flush_loop, daemon=True)
        self._thread.start()

    def output(self, source: str, line: str) -> None:
        """The runner's callback: the child's stdout/stderr, or the runner's own lines."""
        if source in USER_SOURCES:
            self._add(LogLine(USER, cut(self.hide(line)), error=source == "stderr"))
        else:
            self._add(LogLine(RUNNER, cut(self.hide(line))))

    def hub(self, line: str, error: bool = False) -> None:
        self._add(LogLine(HUB, cut(self.hide(line)), error=error))

    def hide(self, text: str) -> str:
        """`text` with the hub's folders named as the run sees them."""
        for path, shown in self._paths:
            text = text.replace(path, shown)
        return text

    def close(self) -> None:
        """Store what is left; the run may read as completed once this returns."""
        self._closed.set()
        self._thread.join()
        self._flush()

    def _add(self, line: LogLine) -> None:
        with self._lock:
            if self._head_left:
                self._head_left -= 1
                self._head.append(line)
                return
            self._tail.append(line)
            if len(self._tail) > TAIL_LINES:
                self._tail.popleft()
                self._dropped += 1

    def _flush_loop(self) -> None:
        while not self._closed.wait(FLUSH_SECONDS):
            try:
                self._flush()
            except Exception:  # the next flush retries; the run goes on
                logger.exception("could not store the log of run %s", self.run_id)

    def _flush(self) -> None:
        with self._lock:
            head, tail, dropped = self._head, list(self._tail), self._dropped
            self._head, self._tail, self._dropped = [], deque(), 0
        if not (head or tail):
            return
        try:
            self._store(head, tail, dropped)
        except Exception:
            with self._lock:  # back in front of the lines that came meanwhile
                self._head[:0] = head
                self._tail.extendleft(reversed(tail))
                self._dropped += dropped
                while len(self._tail) > TAIL_LINES:
                    self._tail.popleft()
                    self._dropped += 1
            raise

    def _store(self, head: list[LogLine], tail: list[LogLine], dropped: int) -> None:
        """One transaction: insert the new lines, delete the stored tail lines they push
        out, and keep the count of lines left out on the marker row. The marker takes the
        place of the first line pruned or, when the lines left out were never stored, goes
        just before the new tail: either way between the head and the tail.
        """
        overflow = max(0, len(self._stored_tail) + len(tail) - TAIL_LINES)
        pruned = [self._stored_tail[index] for index in range(overflow)]
        omitted = self._omitted + dropped + len(pruned)
        marker, doomed = self._marker, pruned
        with self.store.session() as session:
            session.add_all(line.row(self.run_id) for line in head)
            new_marker = None
            if marker is None and dropped and not pruned:
                new_marker = LogLine(HUB, omission(omitted)).row(self.run_id)
                session.add(new_marker)
            tail_rows = [line.row(self.run_id) for line in tail]
            session.add_all(tail_rows)
            session.flush()
            if new_marker is not None:
                marker = new_marker.id
            elif omitted != self._omitted:
                if marker is None:
                    marker, doomed = pruned[0], pruned[1:]
                session.execute(
                    update(RunLog)
                    .where(RunLog.id == marker)
                    .values(emitter=HUB, error=False, content=omission(omitted))
                )
            if doomed:
                session.execute(delete(RunLog).where(RunLog.id.in_(doomed)))
        for _ in pruned:
            self._stored_tail.popleft()
        self._stored_tail.extend(row.id for row in tail_rows)
        self._marker, self._omitted = marker, omitted
