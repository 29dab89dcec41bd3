"""A hub that is down is said at once; a hub that is only slow or briefly failing is tried
again. (Before refused connections failed at once, `crunch list` against a closed port
took 1.9 s of retries to say the same thing.)"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from crunch_cli.api import HubClient


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    "command",
    [
        ("list",),  # a GET, which is retried when the hub is only busy
        ("setup", "demo-timeseries", "alpha", "--token", "x" * 30),  # a POST
    ],
)
def test_a_command_against_a_hub_that_is_down_fails_at_once_naming_it(crunch, command):
    url = f"http://127.0.0.1:{closed_port()}"

    started = time.monotonic()
    result = crunch("--api-base-url", url, *command)
    elapsed = time.monotonic() - started

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot reach the hub at {url}: connection refused",
        "hint: check --api-base-url (or CRUNCH_API_BASE_URL) and that the hub is running",
    ]
    assert elapsed < 0.75, f"{elapsed:.2f} s"


class FlakyHub(http.server.BaseHTTPRequestHandler):
    """Answers the competition list, after failing as the test says: `failures` first
    answers of 503, or `stalls` first requests left without an answer."""

    failures: ClassVar[int] = 0
    stalls: ClassVar[int] = 0
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if len(self.requests) <= type(self).stalls:
            time.sleep(1.5)
            return
        if len(self.requests) <= type(self).stalls + type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"content": [{"name": "steady"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def flaky_hub(*, failures: int = 0, stalls: int = 0) -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (FlakyHub,), {"failures": failures, "stalls": stalls, "requests": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()


def test_a_hub_answering_503_for_a_moment_is_tried_again(crunch):
    with flaky_hub(failures=2) as (url, requests):
        result = crunch("--api-base-url", url, "list", "--json")

    assert result.exit_code == 0, result.output
    assert [competition["name"] for competition in json.loads(result.stdout)] == ["steady"]
    assert len(requests) == 3


def test_a_request_that_times_out_is_tried_again():
    with flaky_hub(stalls=1) as (url, requests):
        competitions = HubClient(url, timeout=0.5).competitions()

    assert [competition["name"] for competition in competitions] == ["steady"]
    assert len(requests) == 2
