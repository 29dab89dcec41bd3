"""`crunch organizer COMPETITION test scoring check|score`, as in crunch-cli 13: try the
competition's scoring module on local folders. Unlike crunch-cli 13, a prediction that is
not valid or not scorable exits with status 1, so scripts can tell."""

from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.cli.output import add_row, echo
from crunch_cli.cli.state import State
from crunch_cli.runner.spec import metric_details

app = typer.Typer(
    name="organizer", help="Try a competition's own modules (for organizers).", no_args_is_help=True
)
test_app = typer.Typer(name="test", help="Try a module on local folders.", no_args_is_help=True)
scoring_app = typer.Typer(name="scoring", help="The scoring module.", no_args_is_help=True)
app.add_typer(test_app)
test_app.add_typer(scoring_app)

DataDirectory = Annotated[
    Path, typer.Option("--data-directory", help="The data, hidden files included.")
]
PredictionDirectory = Annotated[
    Path, typer.Option("--prediction-directory", help="The predictions to check or score.")
]
PhaseType = Annotated[
    str, typer.Option("--phase-type", help="SUBMISSION or OUT_OF_SAMPLE (accepted; SUBMISSION).")
]
ChainHeight = Annotated[int, typer.Option("--chain-height", min=1, help="Runs in the chain.")]


@app.callback()
def organizer(
    ctx: typer.Context,
    competition: Annotated[str, typer.Argument(help="Competition name.")],
) -> None:
    ctx.meta["competition"] = competition


@scoring_app.command("check")
def check(
    ctx: typer.Context,
    data_directory: DataDirectory,
    prediction_directory: PredictionDirectory,
    phase_type: PhaseType = "SUBMISSION",
    chain_height: ChainHeight = 1,
) -> None:
    """Run scoring.py's check() on the predictions."""
    _try(ctx, data_directory, prediction_directory, chain_height, check_only=True)


@scoring_app.command("score")
def score(
    ctx: typer.Context,
    data_directory: DataDirectory,
    prediction_directory: PredictionDirectory,
    phase_type: PhaseType = "SUBMISSION",
    chain_height: ChainHeight = 1,
) -> None:
    """Run scoring.py's check() and score() on the predictions and print every metric."""
    _try(ctx, data_directory, prediction_directory, chain_height, check_only=False)


def _try(
    ctx: typer.Context,
    data_directory: Path,
    prediction_directory: Path,
    chain_height: int,
    *,
    check_only: bool,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from crunch_cli.modules.organizer import try_scoring

    state: State = ctx.find_root().obj
    trial = try_scoring(
        ctx.meta["competition"],
        data_directory,
        prediction_directory,
        base_url=state.nearby_base_url(),
        source=state.competitions_source,
        check_only=check_only,
        chain_height=chain_height,
        on_output=lambda source, line: echo(line, err=source == "stderr"),
    )
    if not trial.ok:
        verb = "valid" if check_only else "scorable"
        echo(f"Prediction is not {verb}: {trial.error}", fg="red")
        raise typer.Exit(1)
    if check_only:
        echo("Prediction is valid!")
        return
    echo("Prediction is scorable!")
    echo("Results:")
    table = Table("Target", "Metric", "Score", "Details")
    for metric in trial.metrics:
        details = metric_details(metric)
        add_row(table, metric.get("target"), metric.get("name"), metric.get("value"), details)
    Console().print(table)
