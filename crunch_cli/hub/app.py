"""`create_app(settings)`: the hub's FastAPI application."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from crunch_cli import __version__
from crunch_cli.hub import web, whitelist
from crunch_cli.hub.errors import install_error_handlers
from crunch_cli.hub.executor import Executor
from crunch_cli.hub.hosts import HostGuard
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.routes import (
    blobs,
    competitions,
    data,
    leaderboards,
    libraries,
    runs,
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
    data,
    users,
    libraries,
    blobs,
    uploads,
    submissions,
    runs,
    leaderboards,
)
EXTRA_LIBRARIES_FILE = "libraries.json"

_REPEATED_SLASHES = re.compile(rb"/{2,}")


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


def create_app(settings: HubSettings) -> FastAPI:
    """The store is opened here, not at start-up, so a bad root or database fails as a
    `CrunchError` in the caller rather than inside the server's start-up log.
    """
    store = HubStore(settings)
    executor = Executor(store, settings.workers)
    janitor = Janitor(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
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
    app.state.libraries = whitelist.load(settings.root / EXTRA_LIBRARIES_FILE)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    web.install(app, settings)
    app.add_middleware(CollapseSlashes)
    app.add_middleware(HostGuard, settings=settings)
    return app
