"""`crunch test`: run the workspace's code locally, the way the platform will run it."""

from typing import Annotated

import typer

from crunch_cli.cli.libraries import check_round, require_current_round, warn_forbidden_requirements
from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State


def _echo_output(source: str, line: str) -> None:
    if source == "runner":
        echo(line, dim=True, err=True)
    else:
        echo(line, err=source == "stderr")


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
    report = test_workspace(settings.workspace, options, _echo_output)
    Console(soft_wrap=True).print(render(report))
    for line in failure_lines(report):
        echo(line, fg="red", err=True)
    report.raise_for_failure()
