"""Where every command module is attached to the root app, in help order."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
