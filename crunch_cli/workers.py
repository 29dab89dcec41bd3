"""Transfers on worker threads that stop at once when asked.

A pool of ordinary threads (`ThreadPoolExecutor`) finishes every file in flight before the
process may exit: a Ctrl-C 40 MB into a 400 MB download waited for the other 360. Here the
workers are daemon threads that look at a shared stop flag between blocks (`Batch.check`),
and the caller stops waiting as soon as the flag is up: Ctrl-C returns within a second,
and what was received or confirmed so far stays where the next run resumes from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

POLL_SECONDS = 0.05
# After a stop, how long the caller waits for workers to wind down before leaving them.
GRACE_SECONDS = 0.5


class Cancelled(Exception):
    """Raised inside a worker when the batch was stopped: by Ctrl-C or by another failure."""


class Batch:
    """One transfer job (a download, a push): its workers share one stop flag, so a
    failure or a Ctrl-C anywhere, even in a nested `map`, stops all of them.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> None:
        """Called by workers between blocks of work."""
        if self._stop.is_set():
            raise Cancelled

    def map(
        self, function: Callable[[Item], Result], items: Iterable[Item], *, workers: int
    ) -> list[Result]:
        """`function` over `items` on up to `workers` daemon threads, results in order.

        The first failure stops the batch and is raised once the workers have wound down
        (or after a short grace); a KeyboardInterrupt in the caller stops it and propagates
        at once.
        """
        pending = list(items)
        results: dict[int, Result] = {}
        errors: list[BaseException] = []
        lock = threading.Lock()
        queue = iter(range(len(pending)))
        count = max(1, min(workers, len(pending)))
        finished = threading.Semaphore(0)

        def work() -> None:
            try:
                while not self._stop.is_set():
                    with lock:
                        index = next(queue, None)
                    if index is None:
                        return
                    try:
                        results[index] = function(pending[index])
                    except BaseException as error:
                        with lock:
                            errors.append(error)
                        self._stop.set()
                        return
            finally:
                finished.release()

        for _ in range(count):
            threading.Thread(target=work, daemon=True).start()
        try:
            self._wait(finished, count)
        except KeyboardInterrupt:
            self._stop.set()
            raise
        failures = [error for error in errors if not isinstance(error, Cancelled)]
        if failures or errors:
            raise (failures or errors)[0]
        if len(results) != len(pending):  # stopped from outside before every item ran
            raise Cancelled
        return [results[index] for index in range(len(pending))]

    def _wait(self, finished: threading.Semaphore, count: int) -> None:
        left = count
        grace_until: float | None = None
        while left:
            if finished.acquire(timeout=POLL_SECONDS):
                left -= 1
                continue
            if self._stop.is_set():
                now = time.monotonic()
                grace_until = grace_until or now + GRACE_SECONDS
                if now >= grace_until:
                    return  # workers stuck in a read are left behind: they are daemons
