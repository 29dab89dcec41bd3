"""The protocol of competition modules (runner, scoring, leaderboard, reward, submission).

Competitions written for crunch-cli 13.0.1 ship Python modules that call back into the tool
through a handful of names (`smart_call`, `GeneratorWrapper`, `ScoredMetric`, the runner
contexts, ...). This package holds our implementation of those names, with the behaviour
those modules rely on; the top-level `crunch` package only re-exports them under the import
paths the modules use (`crunch.utils`, `crunch.container`, `crunch.unstructured`, ...).

Every module here imports only the standard library at import time: organizer modules are
loaded inside runs, and `import crunch` must stay as cheap as `import json`.
"""

from __future__ import annotations

# The crunch-cli release whose protocol this package implements. Competition modules read it
# as `crunch.__version__.__version__` and compare it as a string (one runner refuses anything
# below "11.7.0"), so it names the protocol, not the version of this distribution.
PROTOCOL_VERSION = "13.0.1"

__all__ = ["PROTOCOL_VERSION"]
