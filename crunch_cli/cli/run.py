"""`crunch run create|list|show|logs|wait|terminate`: what the hub did with your code.

`watch` and `report_score` are `crunch push --wait`'s too."""

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
from crunch_cli.runner.spec import metric_details

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient

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
    """Print the run's log lines as they come; return the finished run."""
    from crunch_cli.runs import follow_run

    for item in follow_run(client, run_id, timeout=timeout):
        if "content" in item:
            echo(item["content"], err=bool(item.get("error")))
        else:
            return item
    raise AssertionError("follow() ends with the run")


def report_score(client: "ProjectClient", run: dict[str, Any]) -> None:
    """The score and, when the run made it there, the leaderboard rank."""
    from crunch_cli.runs import outcome

    echo(outcome(run))
    if not run.get("success"):
        return
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
    from crunch_cli.runs import create_run, raise_if_failed

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
        raise_if_failed(finished)


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
            "" if run.get("duration") is None else f"{run['duration']:.1f} s",
        )
    Console().print(table)


def _result(run: dict[str, Any]) -> str:
    if run.get("success") is None:
        return ""
    return "success" if run["success"] else (run.get("exitReason") or "failed")


@app.command("show")
def show(ctx: typer.Context, run_id: RunId, as_json: JsonOption = False) -> None:
    """Show one run."""
    run = _project(ctx).run(run_id)
    if as_json:
        print_json(run)
        return
    echo(f"Run {run['id']} of submission #{run['submission']['number']}: {run['status']}")
    for label, field in (
        ("result", None),
        ("score", "score"),
        ("exit reason", "exitReason"),
        ("error", "errorMessage"),
        ("started", "startedAt"),
        ("ended", "endedAt"),
        ("duration", "duration"),
    ):
        value = _result(run) if field is None else run.get(field)
        if value not in (None, ""):
            echo(f"  {label:<12}{value}")
    for metric in run.get("metrics") or []:
        details = metric_details(metric)
        echo(f"  {metric.get('target')} / {metric.get('name')}: {metric.get('value')} {details}")
    for kind, sha256 in sorted((run.get("modules") or {}).items()):
        echo(f"  {kind}.py    sha256 {sha256}")


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
    """Print a run's logs."""
    client = _project(ctx)
    lines = client.run_logs(run_id)
    after = lines[-1]["id"] if lines else None
    for line in lines[max(0, len(lines) - tail) :] if tail is not None else lines:
        _print_log(line, debug)
    if follow:
        from crunch_cli.runs import follow_run, outcome

        for item in follow_run(client, run_id, after=after):
            if "content" not in item:
                echo(outcome(item))
                return
            _print_log(item, debug)


def _print_log(line: dict[str, Any], debug: bool) -> None:
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
    from crunch_cli.runs import follow_run, outcome, raise_if_failed

    client = _project(ctx)
    finished = None
    for item in follow_run(client, run_id, timeout=timeout, poll_interval=poll_interval):
        if "content" not in item:
            finished = item
    assert finished is not None
    echo(outcome(finished))
    raise_if_failed(finished)


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
