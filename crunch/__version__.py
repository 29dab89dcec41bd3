"""`crunch.__version__.__version__`: the crunch-cli version whose protocol is implemented.

Runner modules compare it with the version they need (as strings, e.g. `< "11.7.0"`), so
it is the protocol's version, not this distribution's (`crunch_cli.__version__`).
"""

from __future__ import annotations

from crunch_cli.protocol import PROTOCOL_VERSION as __version__

__all__ = ["__version__"]
