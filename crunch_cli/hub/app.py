"""`create_app(settings)`: the hub's FastAPI application."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Receive, Scope, Send

from crunch_cli import __version__
from crunch_cli.errors import InsufficientStorageError
from crunch_cli.hub import blobstores, db, web, whitelist
from crunch_cli.hub.blobstores import StorageUnavailableError
from crunch_cli.hub.errors import error_response, install_error_handlers
from crunch_cli.hub.executor import Executor
from crunch_cli.hub.hosts import HostGuard
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.routes import (
    blobs,
    competitions,
    data,
    leaderboards,
    libraries,
    library_requests,
    metrics,
    modules,
    quickstarters,
    runs,
    runtimes,
    submissions,
    tokens,
    uploads,
    users,
)
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.store import HubStore

ROUTERS = (
    tokens,
    competitions,
    metrics,
    data,
    users,
    libraries,
    blobs,
    uploads,
    submissions,
    runs,
    runtimes,
    leaderboards,
    quickstarters,
    library_requests,
)

_REPEATED_SLASHES = re.compile(rb"/{2,}")
RETRY_AFTER_SECONDS = 1
# A store that is down is seldom back within a second; clients wait this long between their
# few tries (`crunch` makes three), so a store restarting rides through without a long stall.
STORAGE_RETRY_AFTER_SECONDS = 2

logger = logging.getLogger(__name__)


class CollapseSlashes:
    """Treats `//v2/libraries` as `/v2/libraries`: the public client joins a base URL that
    ends in `/` with a path that starts with one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            path = _REPEATED_SLASHES.sub(b"/", scope["path"].encode()).decode()
            scope = {**scope, "path": path}
            if scope.get("raw_path"):
                scope["raw_path"] = _REPEATED_SLASHES.sub(b"/", scope["raw_path"])
        await self.app(scope, receive, send)


def busy_response(message: str) -> JSONResponse:
    """`HUB_BUSY` promises the request had no effect: a client may send it again as it
    was, whatever its method, after `Retry-After` seconds.
    """
    response = error_response(503, "HUB_BUSY", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class RequestLimit:
    """Answers `HUB_BUSY` at once, rather than queueing, when `limit` requests are already
    being served: an overloaded hub then sheds load in a way clients retry safely, instead
    of leaving them to time out on requests it may still carry out later.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # One event loop serves every request: no await between the test and the count.
        if self.in_flight >= self.limit:
            response = busy_response(f"the hub is serving {self.limit} requests; try again")
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _storage_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The store of the hub's files cannot be used now: the request did not get its bytes,
    and may be sent again later. The client learns no more than that (the store's address
    and bucket are the organizer's business); the hub's log says what failed."""
    assert isinstance(error, StorageUnavailableError)
    logger.warning("%s %s: %s", request.method, request.url.path, error.message)
    response = error_response(
        503,
        "STORAGE_UNAVAILABLE",
        "the hub cannot reach the store that keeps its files right now: try again later",
    )
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return response


async def _insufficient_storage(_request: Request, error: Exception) -> JSONResponse:
    """No space left for the hub's files: nothing half-written was kept."""
    assert isinstance(error, InsufficientStorageError)
    return error_response(507, "INSUFFICIENT_STORAGE", error.message)


async def _database_busy(_request: Request, error: Exception) -> JSONResponse:
    """The database gave up waiting for a lock (SQLite's write lock, a row lock on
    PostgreSQL), or no pooled connection freed up in time: the transaction was rolled
    back, so the request can be sent again as it was.
    """
    if isinstance(error, PoolTimeoutError) or (
        isinstance(error, OperationalError) and db.is_busy(error)
    ):
        return busy_response("the hub's database is busy; try again")
    if isinstance(error, OperationalError) and db.is_full(error):
        return error_response(
            507, "INSUFFICIENT_STORAGE", "no space left for the hub's database: try again later"
        )
    raise error


async def _unstorable_value(_request: Request, _error: Exception) -> JSONResponse:
    """A value the database refuses (PostgreSQL checks the length of every VARCHAR, which
    SQLite does not): the request is wrong, not the hub."""
    return error_response(
        400,
        "VALIDATION_FAILED",
        "invalid request: a value in it is too long or out of range for the hub's database",
    )


def create_app(settings: HubSettings) -> FastAPI:
    """The store is opened here, not at start-up, so a bad root, database or file store
    fails as a `CrunchError` in the caller rather than inside the server's start-up log.
    """
    store = HubStore(settings)
    try:
        blobstores.check_access(store.blobs)
    except BaseException:
        store.close()
        raise
    executor = Executor(store, settings.workers)
    janitor = Janitor(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and dependencies run on these threads. A request runs on one at a
        # time, and `RequestLimit` admits no more requests than there are threads: a
        # request holding the database's write lock or a pooled connection never waits
        # for a thread behind requests that wait for that lock or connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = (
            settings.max_requests_in_flight
        )
        executor.start()
        janitor.start()
        try:
            yield
        finally:
            janitor.stop()
            executor.stop()
            store.close()

    app = FastAPI(
        title="crunch hub",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.openapi else None,
    )
    app.state.store = store
    app.state.executor = executor
    app.state.libraries = whitelist.LiveWhitelist(settings.root / whitelist.EXTRA_FILE)
    install_error_handlers(app)
    app.add_exception_handler(OperationalError, _database_busy)
    app.add_exception_handler(PoolTimeoutError, _database_busy)
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(StorageUnavailableError, _storage_unavailable)
    app.add_exception_handler(InsufficientStorageError, _insufficient_storage)
    for module in ROUTERS:
        app.include_router(module.router)
    modules.install(app, settings)
    web.install(app, settings)
    app.add_middleware(CollapseSlashes)
    app.add_middleware(RequestLimit, limit=settings.max_requests_in_flight)
    app.add_middleware(HostGuard, settings=settings)
    return app
