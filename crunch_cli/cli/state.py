"""Global options, resolved once and handed to every command (flag > env > workspace)."""

from __future__ import annotations

import dataclasses

DEFAULT_API_BASE_URL = "http://127.0.0.1:8000"


@dataclasses.dataclass
class State:
    debug: bool = False
    api_base_url: str | None = None

    def base_url(self, recorded: str | None = None) -> str:
        """The flag or env var wins, then what the workspace recorded, then the local hub."""
        return (self.api_base_url or recorded or DEFAULT_API_BASE_URL).rstrip("/")
