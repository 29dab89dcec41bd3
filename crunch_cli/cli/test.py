"""`crunch test`: run the workspace's code locally, the way the platform will run it.

While the code runs, its output streams as it comes and the run's progress is shown: on a
terminal, a bar over the moons (or the commands of a competition's own runner) below the
output, cleared before the summary; piped (a log, CI), a line per phase and one every
`PLAIN_EVERY_SECONDS` in the train/infer loop, never one per moon.
"""

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer

from crunch_cli.cli.libraries import check_round, require_current_round, warn_forbidden_requirements
from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State
from crunch_cli.protocol import humanize
from crunch_cli.terminal import shown

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from crunch_cli.runner.process import Progress

PLAIN_EVERY_SECONDS = 10.0
PLAIN_PREFIX = "[crunch test]"

_LABELS = {
    "import": "importing your code",
    "load": "loading the data",
    "train": "train()",
    "infer": "infer()",
    "determinism": "checking determinism",
    "judge": "judging the predictions",
    "check": "checking the predictions",
    "score": "scoring the predictions",
    "run": "the competition's runner",
}
_OUTSIDE_LOOP = {"import", "load", "determinism", "judge", "check", "score", "run"}
"""Phases seen once; the others (train, infer, a runner's commands) alternate in a loop."""
_TIMED = ("train", "infer")


class RunDisplay:
    """The output callback of `crunch test`, with the run's progress (`progress`).

    `live` draws a rich bar on stderr; the code's output is then printed above it, through
    the bar's console, so that neither garbles the other. Otherwise progress is plain lines.
    """

    def __init__(self, *, live: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.live = live
        self.clock = clock
        self.phase: str | None = None
        self.moon: str | None = None
        self.total: int | None = None
        self.unit = "moons"
        self.done = 0
        self.commands = 0
        self.spent = dict.fromkeys(_TIMED, 0.0)
        self._since: float | None = None
        self._in_loop = False
        self._last_line = 0.0
        self._bar: Bar | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> "RunDisplay":
        if self.live:
            self._bar = _make_bar(self)
            self._task = self._bar.add_task("starting", total=None)
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self._in_loop:  # the run ended in its loop: where it got to
            self._say(self.status(), self.clock())

    def __call__(self, source: str, line: str) -> None:
        if self._bar is None:
            if source == "runner":
                echo(line, dim=True, err=True)
            else:
                echo(line, err=source == "stderr")
            return
        from rich.text import Text

        text = Text(shown(line), style="dim" if source == "runner" else "")
        self._bar.console.print(text, soft_wrap=True, highlight=False)

    def progress(self, event: "Progress") -> None:
        now = self.clock()
        if event.kind == "plan":
            self.total, self.unit = event.total, event.unit or self.unit
        elif event.kind == "start" and event.phase not in (None, "schedule"):
            self._start(event.phase, event.moon, now)
        elif event.kind == "end" and event.phase in _TIMED and self._since is not None:
            self.spent[event.phase] += now - self._since
            self._since = None
        if event.kind == "end":
            self.done += event.phase == "infer"
            self.commands += event.command
        if self._bar is not None and self._task is not None:
            description = _LABELS.get(self.phase or "", self.phase or "starting")
            if self.moon is not None and self.phase not in _OUTSIDE_LOOP:
                description = f"{description} · {self.unit.removesuffix('s')} {self.moon}"
            self._bar.update(self._task, description=description, total=self.total)
            self._bar.update(self._task, completed=self.done if self.total else self.commands)
        elif self._in_loop and now - self._last_line >= PLAIN_EVERY_SECONDS:
            self._say(self.status(now), now)

    def _start(self, phase: str, moon: str | None, now: float) -> None:
        changed = phase != self.phase
        self.phase, self.moon = phase, moon
        self._since = now if phase in _TIMED else None
        in_loop = phase not in _OUTSIDE_LOOP
        if self._bar is not None or not changed:
            self._in_loop = in_loop
            return
        if self._in_loop and not in_loop:  # the loop is over: where it ended
            self._say(self.status(now), now)
        if not (self._in_loop and in_loop):  # inside the loop, the phase changes every moon
            looped = phase in _TIMED and self.total is not None
            label = _LABELS.get(phase, phase)
            over = f"train() and infer() over {self.total} {self.unit}"
            self._say(over if looped else label, now)
        self._in_loop = in_loop

    def status(self, now: float | None = None, *, clock: bool = False) -> str:
        """How far the loop is, and the time train() and infer() took so far (in words,
        or as a clock for the bar)."""
        parts = [self.count()] if self.count() else []
        for phase in _TIMED:
            if seconds := self.seconds(phase, now):
                spent = _clock(seconds) if clock else humanize.duration(seconds)
                parts.append(f"{phase} {spent}" if clock else f"{_LABELS[phase]} {spent}")
        return (" · " if clock else ", ").join(parts)

    def count(self) -> str:
        if self.total is not None:
            return f"{self.done}/{self.total} {self.unit}"
        return f"{self.commands} commands" if self.commands else ""

    def seconds(self, phase: str, now: float | None = None) -> float:
        """Spent in `phase` so far, the call still running included."""
        if self.phase != phase or self._since is None:
            return self.spent[phase]
        return self.spent[phase] + (self.clock() if now is None else now) - self._since

    def _say(self, text: str, now: float) -> None:
        if text:
            echo(f"{PLAIN_PREFIX} {text}", err=True)
            self._last_line = now


def _make_bar(display: RunDisplay) -> "Bar":
    """One line that fits 80 columns: the phase, a bar over the moons, how far it is and
    how long train() and infer() took so far, as a clock (it ticks, where words would
    jump); cut at the terminal's width rather than wrapped."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task
    from rich.table import Column
    from rich.text import Text

    class Phase(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(task.description, no_wrap=True, overflow="ellipsis")

    class Status(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(display.status(clock=True), style="progress.download")

    return Progress(
        SpinnerColumn(),
        Phase(table_column=Column(no_wrap=True, max_width=32)),
        BarColumn(bar_width=16),
        Status(table_column=Column(no_wrap=True, overflow="ellipsis")),
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}"


def _interactive() -> bool:
    """A bar only where someone watches: both streams on a terminal."""
    from rich.console import Console

    return sys.stdout.isatty() and Console(stderr=True).is_terminal


def test(
    ctx: typer.Context,
    main_file: Annotated[
        str | None,
        typer.Option("--main-file", help="Your code. Default: main.py, else main.ipynb."),
    ] = None,
    model_directory: Annotated[
        str | None,
        typer.Option(
            "--model-directory", help="Where train() saves the model. Default: resources."
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0, help="Seconds for each phase: loading, each train()/infer() call."
        ),
    ] = None,
    memory_limit: Annotated[
        int | None,
        typer.Option(
            "--memory-limit", min=1, help="MiB of memory for your code. Default: the competition's."
        ),
    ] = None,
    network: Annotated[
        bool,
        typer.Option(
            "--network/--no-network", help="Let your code reach the network (blocked by default)."
        ),
    ] = False,
    train_frequency: Annotated[
        int,
        typer.Option(
            "--train-frequency", min=0, help="Timeseries: train every N moons (0: never again)."
        ),
    ] = 1,
    force_first_train: Annotated[
        bool,
        typer.Option(
            "--force-first-train/--no-force-first-train",
            help="Timeseries: train on the first moon even when a model is already saved.",
        ),
    ] = True,
    force_train: Annotated[
        bool, typer.Option("--force-train", help="Train even when a model is already saved.")
    ] = False,
    gpu: Annotated[
        bool | None,
        typer.Option("--gpu/--no-gpu", help="What has_gpu tells your code. Default: detected."),
    ] = None,
    no_checks: Annotated[
        bool, typer.Option("--no-checks", help="Do not check the predictions.")
    ] = False,
    no_determinism_check: Annotated[
        bool,
        typer.Option(
            "--no-determinism-check", help="Do not run infer() twice on a sample to compare."
        ),
    ] = False,
    determinism_check: Annotated[
        bool,
        typer.Option("--determinism-check", help="The default: infer() runs twice to compare."),
    ] = False,
    skip_library_check: Annotated[
        bool,
        typer.Option(
            "--skip-library-check",
            help="Do not check requirements.txt against the hub's whitelist first.",
        ),
    ] = False,
    round_number: Annotated[
        str,
        typer.Option(
            "--round-number",
            callback=check_round,
            help="@current, @last or N: the data is the current round's.",
        ),
    ] = "@current",
) -> None:
    """Run train() and infer() on the local data, check and score the predictions."""
    from rich.console import Console

    from crunch_cli.runner.local import TestOptions, test_workspace
    from crunch_cli.runner.summary import failure_lines, render

    state: State = ctx.obj
    settings = state.workspace()
    require_current_round(settings, round_number)
    if not skip_library_check:
        warn_forbidden_requirements(settings)
    options = TestOptions(
        main_file=main_file,
        model_directory=model_directory,
        timeout=timeout,
        memory_limit_mb=memory_limit,
        network=network,
        train_frequency=train_frequency,
        force_first_train=force_first_train,
        force_train=force_train,
        gpu=gpu,
        checks=not no_checks,
        determinism_check=determinism_check or not no_determinism_check,
    )
    with RunDisplay(live=_interactive()) as display:
        report = test_workspace(settings.workspace, options, display)
    Console(soft_wrap=True).print(render(report))
    for line in failure_lines(report):
        echo(line, fg="red", err=True)
    report.raise_for_failure()
