"""`crunch test` cuts the user's code off the network unless --network is given."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from crunch_cli.runner import network, sandbox

PROBE = """
import socket

import requests

PORT = {port}


def train():
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=5) as connection:
            print("socket:", connection.recv(100).split(b"\\r\\n")[-1].decode())
    except OSError as error:
        print("socket blocked:", type(error).__name__, error)
    try:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.settimeout(5)
        raw.connect(("127.0.0.1", PORT))
        print("connect: reached")
        raw.close()
    except OSError as error:
        print("connect blocked:", type(error).__name__)
    try:
        print("requests:", requests.get(f"http://127.0.0.1:{{PORT}}/", timeout=5).text)
    except requests.RequestException as error:
        print("requests blocked:", type(error).__name__)


def infer(X_test):
    return X_test[["id"]].assign(prediction=0)
"""


# Code that knows how the old socket guard worked: it went around the patched `socket`.
RAW_SOCKET_PROBE = """

def infer(X_test):
    import importlib
    import socket as patched

    import _socket

    try:
        raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        raw.settimeout(5)
        raw.connect(("127.0.0.1", PORT))
        print("_socket: reached", raw.recv(100))
    except OSError as error:
        print("_socket blocked:", type(error).__name__)
    fresh = importlib.reload(patched)
    try:
        fresh.create_connection(("127.0.0.1", PORT), timeout=5).recv(100)
        print("reloaded socket: reached")
    except OSError as error:
        print("reloaded socket blocked:", type(error).__name__)
    return X_test[["id"]].assign(prediction=0)
"""


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A tiny HTTP server on 127.0.0.1 that answers every connection with 'hello'."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client, contextlib.suppress(OSError):
                client.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    threading.Thread(target=serve, daemon=True).start()
    yield port
    server.close()


@pytest.mark.skipif(
    sandbox.bubblewrap_problem() is not None, reason="bubblewrap cannot run on this machine"
)
def test_no_network_runs_the_code_in_a_sandbox_without_network(
    make_workspace, crunch, loopback_server
):
    make_workspace("cross-sectional", PROBE.format(port=loopback_server))

    result = crunch("test", "--no-network")

    assert result.exit_code == 0, result.output
    assert "sandbox: bubblewrap" in result.stderr
    assert "network: blocked (own network namespace)" in result.stderr
    assert "socket blocked:" in result.stdout
    assert "connect blocked:" in result.stdout
    assert "requests blocked: ConnectionError" in result.stdout
    assert "hello" not in result.stdout


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where bubblewrap is not installed."""
    monkeypatch.setattr(sandbox, "bubblewrap_problem", lambda: "bubblewrap is not installed")


@pytest.mark.skipif(
    network.namespace_prefix() is None, reason="this machine forbids unprivileged namespaces"
)
def test_without_bubblewrap_a_network_namespace_still_cuts_the_network_and_says_so(
    make_workspace, crunch, loopback_server, without_bubblewrap
):
    make_workspace("cross-sectional", PROBE.format(port=loopback_server))

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "sandbox: none (bubblewrap is not installed): the code runs as you" in result.stderr
    assert "network: blocked (own network namespace)" in result.stderr
    assert "socket blocked:" in result.stdout
    assert "hello" not in result.stdout


def test_without_namespaces_a_socket_guard_blocks_the_network(
    make_workspace, crunch, loopback_server, monkeypatch, without_bubblewrap
):
    monkeypatch.setattr(network, "namespace_prefix", lambda: None)
    make_workspace("cross-sectional", PROBE.format(port=loopback_server) + RAW_SOCKET_PROBE)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "network: blocked for Python sockets only (socket guard)" in result.stderr
    assert f"socket blocked: NetworkBlockedError {network.BLOCKED_MESSAGE}" in result.stdout
    assert "connect blocked: NetworkBlockedError" in result.stdout
    assert "requests blocked: ConnectionError" in result.stdout
    assert "_socket blocked: NetworkBlockedError" in result.stdout
    assert "reloaded socket blocked: NetworkBlockedError" in result.stdout
    assert "hello" not in result.stdout


def test_network_flag_lets_the_code_reach_the_server(make_workspace, crunch, loopback_server):
    make_workspace("cross-sectional", PROBE.format(port=loopback_server))

    result = crunch("test", "--network")

    assert result.exit_code == 0, result.output
    assert "network: allowed" in result.stderr
    assert "socket: hello" in result.stdout
    assert "connect: reached" in result.stdout
    assert "requests: hello" in result.stdout
