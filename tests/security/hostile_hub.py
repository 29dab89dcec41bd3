"""A deliberately hostile hub: just enough of the hub API for `crunch setup`, `download`,
`submission checkout` and `run logs`, answering with whatever a test tells it to send.

It speaks real HTTP on a loopback port, so the client is tested end to end, as against a
hub that was compromised or written to harm its users.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPETITION = "evil"
PROJECT = "victim"
USER_ID = 7
PROJECT_TOKEN = "Xq3vN8pL2mR7tY4wK9zB1cD6fH0jS5aE-uG_iO2eT8r"
SETUP_TOKEN = "setup-token-for-the-victim-project"


@dataclass
class Blob:
    """Bytes served at /files/<name>; `extra` more bytes past them, `rate` bytes per second."""

    content: bytes
    extra: int = 0
    rate: float | None = None
    sent: int = 0


@dataclass
class HostileHub:
    url: str = ""
    data_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    submission_files: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: dict[str, Blob] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(
        default_factory=lambda: {"id": 1, "status": "COMPLETED", "success": True}
    )
    # Paths (regular expressions) answered with this error body and status instead.
    errors: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def serve(self, name: str, content: bytes, **behaviour: Any) -> str:
        """Make `content` downloadable; the URL to list it with."""
        self.blobs[name] = Blob(content, **behaviour)
        return f"{self.url}/files/{name}"

    def add_data_file(
        self, key: str, name: str, content: bytes, *, size: int | None = None, **behaviour: Any
    ) -> None:
        self.data_files[key] = {
            "name": name,
            "url": self.serve(key, content, **behaviour),
            "size": len(content) if size is None else size,
            "sha256": hashlib.sha256(content).hexdigest(),
        }

    def add_submission_file(self, name: str, content: bytes, *, sha256: str | None = None) -> None:
        blob = hashlib.sha256(name.encode()).hexdigest()[:16]
        self.submission_files[name] = {
            "url": self.serve(blob, content),
            "size": len(content),
            "sha256": sha256 or hashlib.sha256(content).hexdigest(),
        }

    def ranges(self, name: str) -> list[str]:
        return [
            headers.get("Range", "")
            for method, path, headers in self.requests
            if method == "GET" and path == f"/files/{name}"
        ]


def _routes(hub: HostileHub) -> list[tuple[str, str, Callable[[re.Match[str]], Any]]]:
    project = {
        "id": 3,
        "userId": USER_ID,
        "name": PROJECT,
        "createdAt": "2026-01-01T00:00:00",
        "competitionId": 1,
    }
    competition = {"id": 1, "name": COMPETITION, "format": "TIMESERIES", "status": "OPEN"}
    base = rf"/v\d/competitions/{COMPETITION}/projects/(?:{USER_ID}|@me)/{PROJECT}"
    return [
        (
            "POST",
            r"/v2/project-tokens/upgrade",
            lambda _: {"id": 1, "type": "PERMANENT", "plain": PROJECT_TOKEN, "project": project},
        ),
        ("GET", rf"/v\d/competitions/{COMPETITION}", lambda _: competition),
        ("GET", rf"/v1/competitions/{COMPETITION}/rounds/@current", lambda _: {"number": 1}),
        (
            "GET",
            rf"/v2/competitions/{COMPETITION}/rounds/1/phases/submission/data-release",
            lambda _: {"number": 1, "embargo": 0, "dataFiles": hub.data_files},
        ),
        ("GET", rf"/v1/competitions/{COMPETITION}/checks", lambda _: []),
        ("GET", base + r"/submissions/@last", lambda _: {"number": 1}),
        (
            "GET",
            base + r"/submissions/1/files",
            lambda _: [
                {"name": name, "size": entry["size"], "sha256": entry["sha256"]}
                for name, entry in hub.submission_files.items()
            ],
        ),
        (
            "GET",
            base + r"/clone",
            lambda _: {name: entry["url"] for name, entry in hub.submission_files.items()},
        ),
        ("GET", base + r"/runs/1", lambda _: hub.run),
        ("GET", base + r"/runs/1/logs", lambda _: hub.logs),
    ]


class _Handler(BaseHTTPRequestHandler):
    hub: HostileHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self._answer("POST")

    def _answer(self, method: str) -> None:
        path = self.path.split("?")[0]
        self.hub.requests.append((method, path, dict(self.headers)))
        for pattern, (status, body) in self.hub.errors.items():
            if re.fullmatch(pattern, path):
                return self._json(status, body)
        if method == "GET" and path.startswith("/files/"):
            return self._file(path.removeprefix("/files/"))
        for route_method, pattern, answer in _routes(self.hub):
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return self._json(200, answer(match))
        return self._json(404, {"code": "NOT_FOUND", "message": f"no route {path}"})

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _file(self, name: str) -> None:
        blob = self.hub.blobs[name]
        start = 0
        if match := re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", "")):
            start = int(match[1])
        body_size = len(blob.content) - start + blob.extra
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(body_size))
        self.end_headers()
        payload = blob.content[start:]
        step = 65536 if blob.rate is None else max(1, int(blob.rate / 20))
        try:
            for offset in range(0, len(payload), step):
                self.wfile.write(payload[offset : offset + step])
                blob.sent += len(payload[offset : offset + step])
                if blob.rate is not None:
                    time.sleep(step / blob.rate)
            filler = b"\0" * 65536
            for offset in range(0, blob.extra, len(filler)):
                self.wfile.write(filler[: blob.extra - offset])
                blob.sent += min(len(filler), blob.extra - offset)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def start(hub: HostileHub) -> tuple[ThreadingHTTPServer, threading.Thread]:
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
