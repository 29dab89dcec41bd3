"""Which URL serves a hub's root right now, for the organizer's commands that print one
(`crunch hub token`): each serving hub records its URL in the root while it runs.

Several hubs may serve one root; the last to start is named. A record whose process is gone
(a hub killed without its clean-up) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from crunch_cli.hub.settings import HubSettings

RECORD_FILE = "serving.json"


@contextmanager
def recorded(settings: HubSettings, url: str) -> Iterator[None]:
    """Record `url` (the public URL, if the hub has one) for as long as the block runs."""
    path = settings.root / RECORD_FILE
    shown = (settings.public_url or url).rstrip("/")
    record = {"url": shown, "pid": os.getpid()}
    temporary = path.with_name(f".{RECORD_FILE}.{os.getpid()}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_text(json.dumps(record))
    temporary.replace(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()) == record:
                path.unlink()


def served_url(settings: HubSettings) -> str | None:
    """The URL of a live hub serving this root, if one recorded it."""
    import psutil

    try:
        record = json.loads((settings.root / RECORD_FILE).read_text())
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if psutil.pid_exists(pid) else None
