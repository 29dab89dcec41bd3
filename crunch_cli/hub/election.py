"""Which hub schedules runs when several serve one PostgreSQL database.

Hubs that each claimed runs would each keep `--workers` runs going: with `--executor ray`,
N hubs on one cluster would put N times the intended load on it. So exactly one hub claims
runs from the queue and dispatches them: the one holding a PostgreSQL session-level
advisory lock, taken with `pg_try_advisory_lock` on a connection of its own that it keeps
for its whole life. The others try again every `RETRY_SECONDS`. The server drops the lock
with the session, so when the scheduling hub dies (its connection closes) another takes
over within seconds; should two ever overlap for a moment (a scheduler that has not yet
noticed its connection is gone), claims stay exclusive anyway (`runs.next_queued`).

On SQLite every hub is on one machine and each claim already takes the database's write
lock: every hub schedules, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# Said through the server's own log, the one `crunch hub serve` prints: the organizer sees
# there which hub schedules, beside "Application startup complete".
logger = logging.getLogger("uvicorn.error")

# pg_try_advisory_lock's key for the scheduler ("crunch_s"); the migrations take
# "crunch_h" (`crunch_cli.hub.db.ADVISORY_LOCK_KEY`).
SCHEDULER_LOCK_KEY = 0x6372756E63685F73
RETRY_SECONDS = 3.0
LEADING = "this hub schedules runs: it claims them from the queue"
FOLLOWING = (
    "another hub on this database schedules runs; this one serves the API and takes over "
    "if that hub stops"
)


class SchedulerElection:
    """`start()` once, `stop()` at the end; `leading` says whether this hub schedules now.

    `on_lead` runs when this hub becomes the scheduler after starting as a follower, so
    the queue is looked at straight away rather than at the next poll.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        key: int = SCHEDULER_LOCK_KEY,
        retry_seconds: float = RETRY_SECONDS,
        on_lead: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.key = key
        self.retry_seconds = retry_seconds
        self.on_lead = on_lead
        self.contested = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None
        self._leading = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.contested:
            self._leading.set()

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def start(self) -> None:
        """Try once now, so the start-up log says which hub schedules, then keep trying
        (or keep checking the lock's connection) on a thread of its own."""
        if not self.contested:
            return
        self._try()
        logger.info(LEADING if self.leading else FOLLOWING)
        self._thread = threading.Thread(
            target=self._watch, name="crunch-hub-scheduler-election", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Hand the lock back (by closing its connection): another hub takes over at once."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.retry_seconds + 5.0)
        self._release()

    def _watch(self) -> None:
        while not self._stopping.wait(self.retry_seconds):
            if self._connection is None:
                self._try()
                if self.leading:
                    logger.info("%s (the hub that did has stopped)", LEADING)
                    if self.on_lead is not None:
                        self.on_lead()
            else:
                self._check()

    def _try(self) -> None:
        try:
            connection = self.engine.connect()
        except DBAPIError:
            logger.warning("cannot reach the database to elect the scheduler", exc_info=True)
            return
        try:
            taken = bool(
                connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key})
            )
            connection.commit()  # the lock is the session's: no transaction left open
        except DBAPIError:
            logger.warning("could not try the scheduler's lock", exc_info=True)
            connection.invalidate()
            connection.close()
            return
        if not taken:
            connection.close()
            return
        self._connection = connection
        self._leading.set()

    def _check(self) -> None:
        """The lock lives as long as its session: a connection that fails (a restarted
        server, a network cut) has lost it, and another hub may hold it by now."""
        assert self._connection is not None
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except DBAPIError:
            logger.warning(
                "the scheduler's connection to the database failed: this hub stops "
                "claiming runs until it holds the scheduler's lock again",
                exc_info=True,
            )
            self._release()

    def _release(self) -> None:
        if self.contested:
            self._leading.clear()
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # Closing the driver's connection ends the session, and with it the lock; handed
        # back to the pool instead, it would keep the lock for whoever borrows it next.
        try:
            connection.invalidate()
        finally:
            connection.close()
