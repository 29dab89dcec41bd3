"""`crunch download`: the competition data, brought up to date in data/."""

from typing import Annotated

import typer

from crunch_cli.cli.libraries import check_round, require_current_round
from crunch_cli.cli.output import echo, relative_path
from crunch_cli.cli.setup_options import check_size
from crunch_cli.cli.state import State
from crunch_cli.cli.transfers import Downloads


def download(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Download again even files that are up to date.")
    ] = False,
    size: Annotated[
        str | None,
        typer.Option(
            "--size-variant", "--size", callback=check_size, help="default, small or large."
        ),
    ] = None,
    round_number: Annotated[
        str,
        typer.Option(
            "--round-number",
            callback=check_round,
            help="@current, @last or N: the hub serves the current round's data only.",
        ),
    ] = "@current",
) -> None:
    """Download (or bring up to date) the competition data into data/."""
    from crunch_cli.download import Outcome, download_data

    state: State = ctx.obj
    settings = state.workspace()
    require_current_round(settings, round_number)
    workspace = settings.workspace
    with Downloads() as progress:
        outcomes = download_data(
            settings.client(),
            workspace,
            size_variant=size,
            force=force,
            progress=progress,
            competitions_source=settings.competitions_source,
        )
    fresh = sum(outcome is not Outcome.UP_TO_DATE for outcome in outcomes.values())
    echo(
        f"{len(outcomes)} data files in {relative_path(workspace.data_dir)}"
        f" ({fresh} downloaded, {len(outcomes) - fresh} already up to date)"
    )
