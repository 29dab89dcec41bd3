"""`crunch run create|list|show|logs|wait|terminate`: what the hub did with your code.

`watch` and `report_score` are `crunch push --wait`'s too. A failed run is told once: its
log (the user's traceback) as the hub kept it, then one `error:` line with a hint; the
hub's own closing line repeats that error, so it is left out where the error line follows.
"""

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from crunch_cli.cli.output import (
    JsonOption,
    LimitOption,
    ShowAllOption,
    add_row,
    echo,
    limited,
    print_json,
    submission_selector,
)
from crunch_cli.cli.state import State
from crunch_cli.protocol import humanize
from crunch_cli.runner.spec import metric_details

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient
    from crunch_cli.errors import RunFailedError

app = typer.Typer(
    name="run",
    help="Runs of your submissions on the hub.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

RunId = Annotated[int, typer.Argument(help="Run id (see `crunch run list`).")]

_OPTIONAL_VALUE = "--force-first-train"
_BOOLEANS = ("true", "false", "1", "0", "yes", "no", "y", "n", "on", "off", "t", "f")


class _OptionalValueCommand(typer.core.TyperCommand):
    """`--force-first-train` alone means true, as it always did here; crunch-cli 13.0.1
    spells it with a value (`--force-first-train false`). Both parse: a bare one gets `true`."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]  # typer's Context subclass
        given: list[str] = []
        for index, arg in enumerate(args):
            given.append(arg)
            following = args[index + 1] if index + 1 < len(args) else ""
            if arg == _OPTIONAL_VALUE and following.lower() not in _BOOLEANS:
                given.append("true")
        return super().parse_args(ctx, given)


def _project(ctx: typer.Context) -> "ProjectClient":
    state: State = ctx.obj
    return state.workspace().client()


def watch(client: "ProjectClient", run_id: int, *, timeout: float | None) -> dict[str, Any]:
    """Print the run's log lines as they come; return the finished run. The hub's closing
    line of a failed run is left out: `report_score` says it, once."""
    from crunch_cli.runs import follow_run

    finished: dict[str, Any] = {}

    def lines() -> Iterator[dict[str, Any]]:
        for item in follow_run(client, run_id, timeout=timeout):
            if "content" not in item:
                finished.update(item)
                return
            yield item

    for line in _without_verdict(lines(), finished):
        _print_log(line, debug=False)
    return finished


def report_score(client: "ProjectClient", run: dict[str, Any]) -> None:
    """The score and, when the run made it there, the leaderboard rank; a run that did
    not succeed raises its one error (its log was just shown)."""
    from crunch_cli.runs import outcome

    if not run.get("success"):
        raise failure(run, log_shown=True)
    echo(outcome(run))
    board = client.leaderboard()
    for entry in board.get("entries", []):
        if entry.get("runId") == run["id"]:
            echo(f"rank {entry['rank']} of {len(board['entries'])} on the leaderboard")
            return


def _check_boolean(value: str | None) -> bool | None:
    if value is None:
        return None
    if value.lower() not in _BOOLEANS:
        raise typer.BadParameter("true or false")
    return _BOOLEANS.index(value.lower()) % 2 == 0


@app.command("create", cls=_OptionalValueCommand)
def create(
    ctx: typer.Context,
    submission: Annotated[
        str, typer.Option("--submission", help="Submission number, or @last.")
    ] = "@last",
    train_frequency: Annotated[
        int | None, typer.Option("--train-frequency", min=0, help="Timeseries: train every N.")
    ] = None,
    force_first_train: Annotated[
        str | None,
        typer.Option(
            "--force-first-train",
            callback=_check_boolean,
            metavar="[true|false]",
            help="Timeseries: train on the first moon even with a saved model.",
        ),
    ] = None,
    no_force_first_train: Annotated[
        bool, typer.Option("--no-force-first-train", help="Same as --force-first-train false.")
    ] = False,
    runtime: Annotated[
        str | None,
        typer.Option("--runtime", help="The competition's runtime to run on. Default: its own."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the logs until it ends.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a submission on the hub's hidden test data."""
    from crunch_cli.runs import create_run

    client = _project(ctx)
    run = create_run(
        client,
        submission=submission_selector(submission),
        train_frequency=train_frequency,
        force_first_train=False if no_force_first_train else force_first_train,  # type: ignore[arg-type]  # _check_boolean made it a bool
        runtime=runtime,
    )
    if as_json and not wait:
        print_json(run)
        return
    echo(f"Run {run['id']} created for submission #{run['submission']['number']}")
    if wait:
        finished = watch(client, run["id"], timeout=None)
        report_score(client, finished)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: LimitOption = 10,
    show_all: ShowAllOption = False,
    as_json: JsonOption = False,
) -> None:
    """List your runs, newest first."""
    client = _project(ctx)
    runs = limited(client.runs(), None if show_all else limit, "runs")
    if as_json:
        print_json(runs)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "submission", "status", "result", "score", "duration", box=None)
    for run in runs:
        add_row(
            table,
            str(run["id"]),
            f"#{run['submission']['number']}",
            run["status"],
            _result(run),
            "" if run.get("score") is None else f"{run['score']:.4f}",
            _duration(run.get("duration")),
        )
    Console().print(table)


def _result(run: dict[str, Any]) -> str:
    if run.get("success") is None:
        return ""
    return "success" if run["success"] else (run.get("exitReason") or "failed")


def _moment(value: Any) -> str:
    return "" if value in (None, "") else humanize.timestamp(value)


def _duration(value: Any) -> str:
    return "" if value is None else humanize.duration(float(value))


def _failed(run: dict[str, Any]) -> bool:
    return run.get("status") == "COMPLETED" and not run.get("success")


_LIMIT_HINT = "`crunch status` shows the competition's time and memory limits"
_FIX_HINTS = {
    "timeout": f"make the code faster: {_LIMIT_HINT}",
    "memory": f"make the code lighter: {_LIMIT_HINT}",
    "checks": "fix infer() so that its predictions pass the checks",
}
_LOCALLY = "`crunch test` runs your code the same way on your machine"


def failure(run: dict[str, Any], *, log_shown: bool) -> "RunFailedError":
    """The one error a finished, failed run is reported with. Its hint sends to the log
    when the log is not on the screen already, else to what fixes the failure."""
    from crunch_cli.errors import RunFailedError, RunTerminatedError
    from crunch_cli.runs import outcome

    run_id = run["id"]
    if run.get("terminated"):
        return RunTerminatedError(
            outcome(run), hint=f"`crunch run logs {run_id}` shows how far it got"
        )
    if not log_shown:
        return RunFailedError(outcome(run), hint=f"`crunch run logs {run_id}` shows why")
    fix = _FIX_HINTS.get(str(run.get("exitReason")), "fix the error shown above")
    return RunFailedError(outcome(run), hint=f"{fix}; {_LOCALLY}")


def _report(error: "RunFailedError") -> None:
    """The error lines of a failed run, printed as every command prints its errors, where
    the command itself did what it was asked (showing the run) and exits 0."""
    from crunch_cli.cli import report

    report(error)


def _verdict(run: dict[str, Any]) -> str:
    """The line the hub ends a failed run's log with (crunch_cli.hub.executor)."""
    return f"the run failed ({run.get('exitReason')}): {run.get('errorMessage')}"


def _without_verdict(
    lines: Iterable[dict[str, Any]], run: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """`lines`, less the hub's closing line of a failed run, which repeats the error that
    follows them. `run` is read once the lines are over (it may be filled in meanwhile);
    a line is held back only while it could be that last one."""
    held: dict[str, Any] | None = None
    for line in lines:
        if held is not None:
            yield held
            held = None
        if line.get("emitter") == "hub" and line.get("error"):
            held = line
        else:
            yield line
    if held is not None and not (_failed(run) and held.get("content") == _verdict(run)):
        yield held


@app.command("show")
def show(ctx: typer.Context, run_id: RunId, as_json: JsonOption = False) -> None:
    """Show one run."""
    run = _project(ctx).run(run_id)
    if as_json:
        print_json(run)
        return
    echo(f"Run {run['id']} of submission #{run['submission']['number']}: {run['status']}")
    for label, value in (
        ("result", _result(run)),
        ("score", run.get("score")),
        ("started", _moment(run.get("startedAt"))),
        ("ended", _moment(run.get("endedAt"))),
        ("duration", _duration(run.get("duration"))),
    ):
        if value not in (None, ""):
            echo(f"  {label:<12}{value}")
    for metric in run.get("metrics") or []:
        details = metric_details(metric)
        echo(f"  {metric.get('target')} / {metric.get('name')}: {metric.get('value')} {details}")
    for kind, sha256 in sorted((run.get("modules") or {}).items()):
        echo(f"  {kind}.py    sha256 {sha256}")
    if _failed(run):
        _report(failure(run, log_shown=False))


@app.command("logs")
def logs(
    ctx: typer.Context,
    run_id: RunId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Wait for new lines.")] = False,
    tail: Annotated[
        int | None, typer.Option("--tail", "-t", min=0, help="Only the last N lines so far.")
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show each line's time, emitter and stream.")
    ] = False,
) -> None:
    """Print a run's logs; those of a failed run end with its error."""
    from crunch_cli.runs import follow_run, outcome

    client = _project(ctx)
    run = client.run(run_id)  # before the logs: a run over then has all of its lines
    lines = client.run_logs(run_id)
    after = lines[-1]["id"] if lines else None
    shown: Iterable[dict[str, Any]] = (
        lines[max(0, len(lines) - tail) :] if tail is not None else lines
    )
    if follow and run.get("status") != "COMPLETED":

        def more() -> Iterator[dict[str, Any]]:
            for item in follow_run(client, run_id, after=after):
                if "content" not in item:
                    run.update(item)
                    return
                yield item

        shown = itertools.chain(shown, more())  # printed as they come
    for line in _without_verdict(shown, run) if not debug else shown:
        _print_log(line, debug)
    if _failed(run):
        _report(failure(run, log_shown=True))
    elif follow:
        echo(outcome(run))


def _print_log(line: dict[str, Any], debug: bool) -> None:
    """One line of a run's log; `debug` adds its time (as precise as the hub has it: lines
    come faster than minutes), emitter and stream."""
    stream = "stderr" if line.get("error") else "stdout"
    prefix = f"{line.get('createdAt') or ''} [{line.get('emitter')},{stream}] " if debug else ""
    echo(prefix + line["content"], err=bool(line.get("error")))


@app.command("wait")
def wait(
    ctx: typer.Context,
    run_id: RunId,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0, help="Seconds; exit 2 when it passes.")
    ] = None,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.1, help="Seconds between two looks.")
    ] = 0.5,
) -> None:
    """Wait for a run to end: exit 0 on success, 1 on failure, 2 on --timeout, 3 when it was
    terminated."""
    from crunch_cli.runs import follow_run, outcome

    client = _project(ctx)
    finished = None
    for item in follow_run(client, run_id, timeout=timeout, poll_interval=poll_interval):
        if "content" not in item:
            finished = item
    assert finished is not None
    if _failed(finished):
        raise failure(finished, log_shown=False)
    echo(outcome(finished))


@app.command("terminate")
def terminate(ctx: typer.Context, run_id: RunId) -> None:
    """Stop a queued or running run."""
    from crunch_cli.runs import FINISHED

    client = _project(ctx)
    run = client.run(run_id)
    if run["status"] == FINISHED:
        echo(f"Run {run_id} was already over" + (": terminated" if run.get("terminated") else ""))
        return
    if run.get("terminated"):
        echo(f"Run {run_id} is already being terminated")
        return
    client.terminate_run(run_id)
    echo(f"Run {run_id} terminated")
