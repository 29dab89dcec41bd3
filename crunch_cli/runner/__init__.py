"""Run a competitor's train()/infer() in a child process, the way the platform runs it.

`run(spec)` is the core (used by `crunch test`, the notebook API and the hub);
`checks` and `scoring` judge the predictions; `local` ties them to a workspace.
"""

from crunch_cli.runner.process import OutputCallback, run
from crunch_cli.runner.spec import ColumnNames, DataFiles, Format, RunResult, RunSpec

__all__ = ["ColumnNames", "DataFiles", "Format", "OutputCallback", "RunResult", "RunSpec", "run"]
