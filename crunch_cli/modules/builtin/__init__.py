"""crunch's built-in formats (timeseries, cross-sectional, stream) as modules of the
competition protocol: a `runner.py` and a `scoring.py` like any organizer's, run by the same
pipeline (`crunch_cli.modules.pipeline`) for `crunch test` and on the hub.

They are crunch's own code, so the pipeline calls them in its own process, where an
organizer's modules get sandboxes of their own; the participant's code runs in the same
sandboxed child either way. Their functions ask, by name, for `crunch_run`: what crunch
knows of the run (its spec, the event pipe, the references to judge against) and the steps
that read it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crunch_cli.runner.calls import Events

if TYPE_CHECKING:
    import pandas as pd

    from crunch_cli.protocol.contexts import UserModule
    from crunch_cli.runner.checks import CheckFailure
    from crunch_cli.runner.judge import Reference
    from crunch_cli.runner.spec import Judging, ModuleJob, RunSpec, Score

FOLDER = Path(__file__).parent
MODULES = {"runner": FOLDER / "runner.py", "scoring": FOLDER / "scoring.py"}
PREDICTION_FILE = "prediction.parquet"


def is_built_in(modules: dict[str, Path] | Any) -> bool:
    """Whether `modules` are these (trusted) modules rather than an organizer's."""
    return dict(modules) == MODULES


class ScheduleFailed(BaseException):
    """The participant's code failed; the child already reported why."""


@dataclasses.dataclass
class CrunchRun:
    """crunch's side of one process of a built-in format's run.

    `judging` is what the predictions are judged against, where the caller judges them apart
    from the participant's process (the hub, with its hidden files).
    """

    spec: RunSpec
    job: ModuleJob
    events: Events
    judging: Judging | None = None
    _judged: tuple[list[CheckFailure], Score | None] | None = None
    _predictions: pd.DataFrame | None = None
    _reference: Reference | None = None

    @property
    def prediction_path(self) -> Path:
        return self.job.prediction_directory / PREDICTION_FILE

    def schedule(self, module: UserModule) -> None:
        """The format's whole train/infer schedule, the participant's module kept loaded
        from the first call to the last."""
        from crunch_cli.runner.child import run_schedule

        spec = dataclasses.replace(self.spec, prediction_path=self.prediction_path)
        if run_schedule(spec, self.events, lambda: module.module) != 0:
            raise ScheduleFailed

    def judge(self) -> tuple[list[CheckFailure], Score | None]:
        """The checks' failures and the score of the predictions file, read once."""
        if self._judged is None:
            import pandas

            from crunch_cli.protocol.types import ParticipantVisibleError
            from crunch_cli.runner.judge import Reference, judge

            assert self.judging is not None
            columns = self.spec.columns
            try:
                self._predictions = pandas.read_parquet(self.prediction_path)
                self._reference = Reference.read(self.spec.data_files.x_test, self.judging, columns)
                self._judged = judge(self._predictions, columns, self.judging, self._reference)
            except Exception as error:  # whatever the file holds, it is the submission's doing
                raise ParticipantVisibleError(
                    f"the predictions could not be checked: {error}"
                ) from error
        return self._judged

    def score_by_moon(self) -> list[tuple[int | str, float]]:
        """The metric on each moon of the predictions `judge` read (none without moons)."""
        from crunch_cli.runner.scoring import score_by_moon

        self.judge()
        assert self.judging is not None and self._predictions is not None
        truth = None if self._reference is None else self._reference.truth
        if truth is None:
            return []
        return score_by_moon(self.judging.metric, self._predictions, truth, self.spec.columns)
