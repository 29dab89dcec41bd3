"""`--size` on a competition that publishes no data of that size: said, with the sizes it
has. Our hub serves every size; a hub that has only some (the hosted one) answers 404 for
the others, which a relay in front of the real hub stands for here."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import requests

COMPETITION = "demo-timeseries"


class _Relay(http.server.BaseHTTPRequestHandler):
    """Passes every request on to the hub, except a data release of a missing size."""

    upstream: ClassVar[str] = ""
    missing: ClassVar[set[str]] = set()

    def _relay(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        if "/data-release" in self.path and query.get("sizeVariant", [""])[0] in self.missing:
            self._answer(404, {"code": "MISSING_PHASE_DATA", "message": "no data of that size"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        headers = {key: value for key, value in self.headers.items() if key.lower() != "host"}
        answer = requests.request(
            self.command,
            self.upstream + self.path,
            headers=headers,
            data=self.rfile.read(length) if length else None,
            timeout=30,
        )
        self.send_response(answer.status_code)
        for key in ("Content-Type", "ETag", "Retry-After"):
            if key in answer.headers:
                self.send_header(key, answer.headers[key])
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    def _answer(self, status: int, body: dict) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = _relay

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def hub_without(hub, *sizes: str) -> Iterator[str]:
    """The URL of the hub as a hub that has no data of these sizes would be."""
    handler = type("Relay", (_Relay,), {"upstream": hub.url, "missing": set(sizes)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_setup_with_a_size_the_competition_lacks_names_the_sizes_it_has(hub, crunch, tmp_path):
    token = hub.mint_token(COMPETITION, "alice", "alpha")

    with hub_without(hub, "SMALL") as url:
        result = crunch(
            "--api-base-url", url, "setup", COMPETITION, "alpha", "--token", token,
            "--size", "small",
        )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "error: workspace ready in demo-timeseries-alpha, but the data download failed: "
        "demo-timeseries has no small data: its data comes in default and large sizes",
        "hint: cd demo-timeseries-alpha && crunch download --size default",
    ]
    assert (tmp_path / "demo-timeseries-alpha" / ".crunchdao" / "project.json").is_file()


def test_download_with_a_size_the_competition_lacks_says_which_it_has(hub, workspace, crunch):
    config = workspace / ".crunchdao" / "project.json"

    with hub_without(hub, "LARGE", "SMALL") as url:
        config.write_text(json.dumps({**json.loads(config.read_text()), "apiBaseUrl": url}))
        refused = crunch("download", "--size", "large")
        default = crunch("download")

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: demo-timeseries has no large data: its data comes in default size",
        "hint: pass --size default",
    ]
    assert default.exit_code == 0, default.output
