"""`crunch list`: the hub's competitions, filtered as crunch-cli 13 filters them."""

from collections.abc import Callable
from typing import Annotated, Any

import typer

from crunch_cli.cli.output import JsonOption, add_row, echo, print_json
from crunch_cli.cli.state import State
from crunch_cli.competitions import (
    FORMATS,
    MODES,
    STATUSES,
    CompetitionFilter,
    find_competitions,
)

_BOOLEANS = {"true": True, "1": True, "yes": True, "y": True, "on": True, "t": True}
_BOOLEANS |= {"false": False, "0": False, "no": False, "n": False, "off": False, "f": False}


def _choice(names: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """crunch-cli 13's choices: any case in, the wire name (upper case) out."""

    def check(value: str | None) -> str | None:
        if value is None or value.upper() in names:
            return value and value.upper()
        raise typer.BadParameter(f"{value!r}: choose " + ", ".join(map(str.lower, names)))

    return check


def _check_boolean(value: str | None) -> str | None:
    """A value, not a flag (`--external false`), as crunch-cli 13 spells these filters."""
    if value is not None and value.lower() not in _BOOLEANS:
        raise typer.BadParameter(f"{value!r}: true or false")
    return value


def _boolean(value: str | None) -> bool | None:
    return None if value is None else _BOOLEANS[value.lower()]


def _choices(names: tuple[str, ...]) -> str:
    return "|".join(name.lower() for name in names)


def _filter(help: str) -> Any:
    return typer.Option(callback=_check_boolean, metavar="true|false", help=help)


def list_competitions(
    ctx: typer.Context,
    competition_format: Annotated[
        str | None,
        typer.Option(
            "--format", callback=_choice(FORMATS), metavar=_choices(FORMATS), help="Their format."
        ),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(callback=_choice(MODES), metavar=_choices(MODES), help="Their mode."),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(callback=_choice(STATUSES), metavar=_choices(STATUSES), help="Their status."),
    ] = None,
    continuous: Annotated[str | None, _filter("Continuous ones, or not.")] = None,
    external: Annotated[str | None, _filter("External ones, or not.")] = None,
    featured: Annotated[str | None, _filter("Featured ones, or not.")] = None,
    organizer_name: Annotated[
        str | None, typer.Option(metavar="NAME", help="Those of this organizer (by its name).")
    ] = None,
    team_based: Annotated[str | None, _filter("Team-based ones, or not.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List the hub's competitions, all or those that match every filter given."""
    state: State = ctx.obj
    filters = CompetitionFilter(
        format=competition_format,
        mode=mode,
        status=status,
        continuous=_boolean(continuous),
        external=_boolean(external),
        featured=_boolean(featured),
        organizer_name=organizer_name,
        team_based=_boolean(team_based),
    )
    competitions = find_competitions(state.settings.hub(), filters)
    if as_json:
        print_json(competitions)
        return
    if not competitions:
        echo("No competitions found.")
        return
    from rich.console import Console
    from rich.table import Table

    from crunch_cli.runner.spec import format_label

    table = Table("name", "format", "status", "title", box=None)
    for competition in competitions:
        add_row(
            table,
            competition["name"],
            format_label(str(competition.get("format", ""))),
            str(competition.get("status", "")),
            competition.get("displayName") or "",
        )
    Console().print(table)
