"""Run the hub with uvicorn: blocking (`crunch hub serve`) or in a background thread
(tests, `crunch demo`), on a socket bound before uvicorn starts so port 0 works and a
busy port is a clear error instead of a log line.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from crunch_cli.errors import CrunchError
from crunch_cli.hub.app import create_app
from crunch_cli.hub.settings import HubSettings

STARTUP_TIMEOUT = 10.0


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


def _server(settings: HubSettings, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings),
        log_level=log_level,
        # Access logs would record signed URLs and legacy `pushToken` query values.
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    return uvicorn.Server(config)


def serve(
    settings: HubSettings,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; `on_ready(url)` runs once the port is bound."""
    sock = bind(host, port)
    server = _server(settings, "info")
    if on_ready is not None:
        on_ready(url_of(sock))
    with sock:
        server.run(sockets=[sock])


@contextmanager
def serve_in_thread(
    settings: HubSettings, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningServer]:
    sock = bind(host, port)
    server = _server(settings, "warning")
    # uvicorn installs signal handlers only in the main thread; nothing to undo here.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise CrunchError("the hub failed to start", hint="run it with --debug")
            thread.join(0.001)
        yield RunningServer(url_of(sock), settings)
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT)
        sock.close()
