"""crunch: the import names of crunch-cli 13, for competition modules and notebooks.

Competition modules (`runner.py`, `scoring.py`, ...) and notebooks written for crunch-cli do
`import crunch`, `from crunch.utils import smart_call`, `crunch.load_notebook()`. This package
answers those imports from `crunch_cli`; it holds no logic of its own. It replaces crunch-cli
in an environment, so the two must not be installed side by side (both provide `crunch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import crunch.api as api
from crunch.runner import is_inside as is_inside_runner

if TYPE_CHECKING:
    from crunch_cli.notebook import load_notebook

__all__ = ["api", "is_inside_runner", "load_notebook"]


def __getattr__(name: str) -> Any:
    # The notebook API pulls in the workspace and runner modules: loaded on first use only,
    # so that a scoring module's `import crunch` stays light.
    if name == "load_notebook":
        from crunch_cli.notebook import load_notebook

        return load_notebook
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
