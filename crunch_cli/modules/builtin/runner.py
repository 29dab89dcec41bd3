"""The runner of the built-in formats: the whole schedule is one command, so the
participant's module stays loaded from the first `train()` to the last `infer()`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crunch_cli.modules.builtin import CrunchRun
    from crunch_cli.protocol.contexts import RunnerContext, UserModule

SCHEDULE = "schedule"


def run(context: RunnerContext) -> None:
    # The formats hand the data to the participant's functions themselves: no fuse.
    context.execute(command=SCHEDULE, install_data_fuse=False)


def execute(module: UserModule, crunch_run: CrunchRun) -> dict[str, Callable[[], None]]:
    return {SCHEDULE: lambda: crunch_run.schedule(module)}
