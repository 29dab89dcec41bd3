"""`crunch whitelist search|validate|request`: the libraries a submission may use."""

from pathlib import Path
from typing import Annotated

import typer

from crunch_cli.cli.output import (
    JsonOption,
    LimitOption,
    ShowAllOption,
    echo,
    limited,
    print_json,
    relative_path,
)
from crunch_cli.cli.state import State

app = typer.Typer(
    name="whitelist",
    help="The libraries a submission may use.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _check_language(value: str) -> str:
    """crunch-cli 13 knows Python and R; the hub's whitelist holds Python libraries only."""
    if value.upper() != "PYTHON":
        raise typer.BadParameter(f"{value!r}: the whitelist holds Python libraries only")
    return "PYTHON"


LanguageOption = Annotated[
    str,
    typer.Option(
        "--language",
        metavar="python",
        callback=_check_language,
        help="The libraries' language: python, the only one.",
    ),
]


@app.command("search")
def search(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name or alias; % or * is a wildcard.")],
    language: LanguageOption = "PYTHON",
    limit: LimitOption = 10,
    show_all: ShowAllOption = False,
    as_json: JsonOption = False,
) -> None:
    """Search the hub's library whitelist."""
    state: State = ctx.obj
    found = state.settings.hub().libraries(name.replace("*", "%"), language=language)
    libraries = limited(found, None if show_all else limit, "libraries")
    if as_json:
        print_json(libraries)
        return
    if not libraries:
        echo(f"no whitelisted library matches {name!r}")
        raise typer.Exit(1)
    for library in libraries:
        aliases = ", ".join(library.get("aliases") or [])
        standard = " (standard library)" if library.get("standard") else ""
        echo(f"{library['name']}{standard}" + (f"  aliases: {aliases}" if aliases else ""))


@app.command("validate")
def validate(
    ctx: typer.Context,
    requirements: Annotated[
        Path | None,
        typer.Argument(
            help="A requirements.txt, or a script or notebook whose imports to check. "
            "Default: requirements.txt, else main.py, else main.ipynb (what push reads).",
            show_default=False,
        ),
    ] = None,
    language: LanguageOption = "PYTHON",
) -> None:
    """Check a requirements.txt (or a script's or notebook's imports) against the
    whitelist (exit 1 if anything is not allowed)."""
    from crunch_cli.errors import RequirementsError
    from crunch_cli.push.declared import declared_requirements, requirements_source
    from crunch_cli.push.submit import forbidden_libraries

    state: State = ctx.obj
    if requirements is None:
        workspace = state.settings.nearby_workspace()
        path = requirements_source(workspace.root if workspace is not None else Path.cwd())
    else:
        path = requirements
    name = relative_path(path.absolute())
    parsed = declared_requirements(path, name)
    forbidden = forbidden_libraries(state.settings.hub(), parsed)
    if forbidden:
        listed = ", ".join(forbidden)
        raise RequirementsError(
            f"{name}: not allowed on this competition: {listed}",
            hint=f"remove {'them' if len(forbidden) > 1 else 'it'} from {name}; "
            "`crunch whitelist search NAME` lists what is allowed, "
            "`crunch whitelist request --name NAME` asks for a library",
        )
    checked = [requirement for requirement in parsed if not requirement.standard]
    echo(f"{name}: all {len(checked)} requirements are allowed")


def _check_gpu(value: str) -> str:
    from crunch_cli.library_requests import GPU_REQUIREMENTS

    if value not in GPU_REQUIREMENTS:
        raise typer.BadParameter(f"{value!r}: choose one of {', '.join(GPU_REQUIREMENTS)}")
    return value


@app.command("request")
def request(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name", help="The library's name on PyPI.")] = None,
    alias: Annotated[
        str | None, typer.Option("--alias", help="The name you import, when it differs.")
    ] = None,
    language: LanguageOption = "PYTHON",
    gpu: Annotated[
        str,
        typer.Option(
            "--gpu",
            metavar="[unknown|useless|useful|required]",
            callback=_check_gpu,
            help="Whether it needs a GPU.",
        ),
    ] = "unknown",
    additional_details: Annotated[
        str | None,
        typer.Option("--additional-details", help="Why you need it, for the organizer."),
    ] = None,
) -> None:
    """Ask the organizer to whitelist a library."""
    from crunch_cli.library_requests import request_library

    if not name and not alias:
        raise typer.BadParameter("give --name, --alias or both", param_hint="--name")
    state: State = ctx.obj
    created = request_library(
        state.workspace().client(),
        name=name,
        alias=alias,
        language=language,
        gpu=gpu,
        additional_details=additional_details,
    )
    reason = created.get("verdictReason")
    echo(
        f"library request #{created.get('id')} for {created.get('name') or created.get('alias')}: "
        f"{str(created.get('verdict', '')).lower()}" + (f" ({reason})" if reason else "")
    )
    if not state.hide_tips and created.get("verdict") == "PENDING":
        echo("Next: the organizer reviews it; `crunch whitelist search NAME` shows it once allowed")
