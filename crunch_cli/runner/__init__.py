"""Run a competitor's train()/infer() in a child process, the way the platform runs it.

`run(spec)` is the core (used by `crunch test`, the notebook API and the hub);
`checks` and `scoring` judge the predictions; `local` ties them to a workspace.
The names below load on first use: the child process imports this package too, and
has no use for the parent's side.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crunch_cli.runner.process import OutputCallback, run
    from crunch_cli.runner.spec import ColumnNames, DataFiles, Format, RunResult, RunSpec

_HOMES = {
    "OutputCallback": "process",
    "run": "process",
    "ColumnNames": "spec",
    "DataFiles": "spec",
    "Format": "spec",
    "RunResult": "spec",
    "RunSpec": "spec",
}

__all__ = ["ColumnNames", "DataFiles", "Format", "OutputCallback", "RunResult", "RunSpec", "run"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
