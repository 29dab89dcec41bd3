"""crunch_cli: set up, test and push code-submission competitions.

This module is imported by every `crunch` invocation, so it imports nothing heavy; the
notebook API (`crunch_cli.load_notebook()`) is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from crunch_cli.notebook import load_notebook

__all__ = ["__version__", "load_notebook"]


def __getattr__(name: str) -> Any:
    if name == "load_notebook":
        from crunch_cli.notebook import load_notebook

        return load_notebook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
