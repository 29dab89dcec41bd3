"""The hub's library whitelist, as an authority on distribution names.

Only `crunch_cli.api` talks HTTP, so this module works with anything that has a
`libraries(name)` method: `HubClient` in production, a dict-backed stand-in nowhere (the
tests use a real hub).
"""

from __future__ import annotations

from typing import Any, Protocol

from crunch_cli.errors import RequirementsError


class LibraryIndex(Protocol):
    def libraries(self, name: str | None = None) -> list[dict[str, Any]]: ...


class Whitelist:
    """Look-ups by distribution name or import name, one query per name."""

    def __init__(self, index: LibraryIndex) -> None:
        self.index = index
        self._cache: dict[str, list[dict[str, Any]]] = {}

    def _query(self, name: str) -> list[dict[str, Any]]:
        if name not in self._cache:
            self._cache[name] = self.index.libraries(name)
        return self._cache[name]

    def by_name(self, name: str) -> dict[str, Any] | None:
        from packaging.utils import canonicalize_name

        wanted = canonicalize_name(name)
        for library in self._query(name):
            if canonicalize_name(library["name"]) == wanted:
                return library
        return None

    def by_module(self, module: str) -> dict[str, Any] | None:
        """The library an import name stands for; several candidates are an error.

        A library named like the module wins (`import torch`); otherwise the module must
        be an alias of exactly one library (`sklearn` -> scikit-learn). When two libraries
        claim the alias (`cv2`: opencv-python and opencv-python-headless), guessing could
        install the wrong one, so the user has to name it.
        """
        direct = self.by_name(module)
        if direct is not None:
            return direct
        candidates = sorted(
            {
                library["name"]
                for library in self._query(module)
                if module in library.get("aliases", ())
            }
        )
        if len(candidates) > 1:
            raise RequirementsError(
                f"`import {module}` matches several whitelisted libraries: {', '.join(candidates)}",
                hint="name the one you want on the import line: "
                f"`import {module}  # {candidates[0]} @latest`",
            )
        if not candidates:
            return None
        return next(library for library in self._query(module) if library["name"] == candidates[0])
