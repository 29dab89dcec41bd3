"""Fixtures for the competitor-side commands: a real hub (tests/conftest.py) plus tools
to break the network between the CLI and it."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest


class DroppingProxy:
    """A TCP relay that cuts blob downloads after `drop_after` bytes, `drops` times.

    It stands for a flaky network: the hub is real, only the wire between is broken.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        drop_after: int,
        drops: int = 1,
        hold_puts_after: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.drop_after = drop_after
        self.drops_left = drops
        # Upload chunks past this count are held forever: the push hangs mid-upload.
        self.hold_puts_after = hold_puts_after
        self.puts = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            state = {"blob": False, "sent": 0}
            threading.Thread(
                target=self._pump_requests, args=(client, upstream, state), daemon=True
            ).start()
            threading.Thread(
                target=self._pump_responses, args=(upstream, client, state), daemon=True
            ).start()

    def _pump_requests(self, source: socket.socket, sink: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                head = data.decode("latin-1")
                if head.startswith(("GET ", "PUT ", "POST ", "HEAD ")):
                    with self._lock:
                        self.requests.append(head.split("\r\n\r\n")[0])
                        if head.startswith("PUT /blobs/"):
                            self.puts += 1
                            state["held"] = (
                                self.hold_puts_after is not None
                                and self.puts > self.hold_puts_after
                            )
                    state["blob"] = head.startswith("GET /blobs/")
                    state["sent"] = 0
                if state.get("held"):
                    continue
                sink.sendall(data)
        _close(source, sink)

    def _pump_responses(self, source: socket.socket, sink: socket.socket, state: dict) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if state["blob"]:
                    with self._lock:
                        cut = self.drops_left > 0 and state["sent"] + len(data) > self.drop_after
                        if cut:
                            self.drops_left -= 1
                    if cut:
                        sink.sendall(data[: self.drop_after - state["sent"]])
                        break
                    state["sent"] += len(data)
                sink.sendall(data)
        _close(source, sink)

    def blob_requests(self) -> list[str]:
        with self._lock:
            return [request for request in self.requests if request.startswith("GET /blobs/")]


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


@pytest.fixture
def dropping_proxy(hub) -> Iterator[callable]:
    proxies: list[DroppingProxy] = []

    def make(
        drop_after: int = 10**12, drops: int = 1, hold_puts_after: int | None = None
    ) -> DroppingProxy:
        parts = urlsplit(hub.url)
        proxy = DroppingProxy((parts.hostname, parts.port), drop_after, drops, hold_puts_after)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def workspace(hub, crunch, tmp_path: Path) -> Path:
    """A set-up timeseries workspace with its data; the current folder is its root."""
    token = hub.mint_token("demo-timeseries", "alice", "alpha")
    result = crunch(
        "--api-base-url", hub.url, "setup", "demo-timeseries", "alpha", "--token", token
    )
    assert result.exit_code == 0, result.output
    root = tmp_path / "demo-timeseries-alpha"
    os.chdir(root)
    return root
