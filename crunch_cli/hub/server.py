"""Run the hub with uvicorn: blocking (`crunch hub serve`) or in a background thread
(tests, `crunch demo`), on a socket bound before uvicorn starts so port 0 works and a
busy port is a clear error instead of a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from crunch_cli.errors import CrunchError
from crunch_cli.hub import serving
from crunch_cli.hub.app import create_app
from crunch_cli.hub.settings import HubSettings

SHUTDOWN_TIMEOUT = 10.0


@dataclasses.dataclass(frozen=True)
class RunningServer:
    url: str
    settings: HubSettings


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CrunchError(
            f"cannot listen on {host}:{port}: {error.strerror or error}",
            hint="pick another --port, or stop whatever is using this one",
        ) from error
    sock.listen(2048)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


def serve(
    settings: HubSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; `on_ready(url)` runs once the port is bound."""
    with bind(host, port) as sock:
        # Access logs would record signed URLs and legacy `pushToken` query values.
        config = uvicorn.Config(
            create_app(settings), log_level="info", access_log=False, timeout_graceful_shutdown=5
        )
        server = uvicorn.Server(config)
        if on_ready is not None:
            on_ready(url_of(sock))
        with serving.recorded(settings, url_of(sock)):
            server.run(sockets=[sock])


class _ThreadedServer(uvicorn.Server):
    """A uvicorn server that a test (or `crunch demo`) stops in a few milliseconds.

    uvicorn polls its exit flag every 100 ms and then waits for open connections to
    finish; a thread-hosted hub is stopped on purpose, with nothing left worth waiting
    for, so `stop()` wakes the loop at once and skips the graceful wait.
    """

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if not self.force_exit:
            await super().shutdown(sockets)
            return
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await self.lifespan.shutdown()  # the app closes its store

    def stop(self) -> None:
        self.should_exit = True
        self.force_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._wake.set)


@contextmanager
def serve_in_thread(
    settings: HubSettings, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningServer]:
    sock = bind(host, port)
    server = _ThreadedServer(
        uvicorn.Config(
            create_app(settings), log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
    )
    # uvicorn installs signal handlers only in the main thread; nothing to undo here.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise CrunchError("the hub failed to start", hint="run it with --debug")
            thread.join(0.001)
        with serving.recorded(settings, url_of(sock)):
            yield RunningServer(url_of(sock), settings)
    finally:
        server.stop()
        thread.join(SHUTDOWN_TIMEOUT)
        sock.close()
