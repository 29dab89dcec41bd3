"""`crunch.runner`: whether this process runs inside a hub's runner."""

from __future__ import annotations

from crunch_cli.protocol.contexts import inside_runner

# Read once, at import, like the environment of the process it describes.
is_inside = inside_runner()

__all__ = ["is_inside"]
