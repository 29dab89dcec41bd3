"""The `crunch` command: the root Typer app, global options, and error reporting.

Command modules only parse options, call one core function and print its result. This
module is the single place where a `CrunchError` becomes a line on stderr and an exit
status; a traceback is shown only with `--debug`, or for a bug, and then printed like every
other line: without control sequences or anything shaped like a token. `--debug` also
prints each HTTP request and its answer's status on stderr, and is taken after the
command as well as before it (`crunch push --debug`).
"""

import logging
import sys
import traceback
from typing import Annotated, Any

import typer
import typer.core

from crunch_cli import __version__
from crunch_cli.cli import commands
from crunch_cli.cli.output import echo
from crunch_cli.cli.state import State
from crunch_cli.environments import ENVIRONMENTS, Settings, environment_name
from crunch_cli.errors import CrunchError

DEBUG = "--debug"


class _ReportingGroup(typer.core.TyperGroup):
    """Turns a `CrunchError` raised anywhere below into one readable line + hint."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]  # typer's Context subclass
        """`--debug` anywhere before `--` is the global option, unless the command it
        follows has a `--debug` of its own (`crunch run logs --debug`)."""
        rest: list[str] = super().parse_args(ctx, args)
        if DEBUG not in rest or not ctx._protected_args:
            return rest
        command = _command(self, ctx, [*ctx._protected_args, *rest])
        if command is None or _takes_debug(command):
            return rest
        end = rest.index("--") if "--" in rest else len(rest)
        ctx.args = [arg for arg in rest[:end] if arg != DEBUG] + rest[end:]
        ctx.params["debug"] = True
        return ctx.args

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # typer's Context subclass
        try:
            return super().invoke(ctx)
        except CrunchError as error:
            state = ctx.obj if isinstance(ctx.obj, State) else None
            if state is not None and state.debug:
                raise
            report(error)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            echo("interrupted", err=True)
            raise typer.Exit(130) from None


def report(error: CrunchError) -> None:
    echo(f"error: {error.message}", fg="red", err=True)
    if error.hint:
        echo(f"hint: {error.hint}", err=True)


def _command(group: typer.core.TyperGroup, ctx: typer.Context, args: list[str]) -> Any:
    """The command `args` (a command line after the global options) runs: a group's
    subcommand is its first argument that is not an option. None for an unknown name."""
    command: Any = group
    while isinstance(command, typer.core.TyperGroup):
        name = next((arg for arg in args if not arg.startswith("-")), None)
        if name is None:
            return command
        command, args = command.get_command(ctx, name), args[args.index(name) + 1 :]
    return command


def _takes_debug(command: Any) -> bool:
    return any(DEBUG in getattr(param, "opts", ()) for param in command.params)


class _StderrLog(logging.Handler):
    """The HTTP log of `--debug` (`crunch_cli.api.transport`), printed like every line."""

    def emit(self, record: logging.LogRecord) -> None:
        echo(f"debug: {record.getMessage()}", err=True, dim=True)


def _log_http(ctx: typer.Context) -> None:
    """Show the HTTP log until the command ends (tests run many commands in one process)."""
    logger = logging.getLogger("crunch_cli.http")
    handler = _StderrLog()
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)

    def stop() -> None:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    ctx.call_on_close(stop)


app = typer.Typer(
    cls=_ReportingGroup,
    name="crunch",
    help="Set up, test and push code-submission machine-learning competitions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: rendering it with rich costs more start-up time than the command itself.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _check_environment(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return environment_name(value)
    except ValueError:
        raise typer.BadParameter(
            "choose production (prod), staging (test) or development (dev, local)"
        ) from None


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"crunch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            DEBUG,
            help="Show full tracebacks and each HTTP request on stderr (also after the command).",
        ),
    ] = False,
    api_base_url: Annotated[
        str | None,
        typer.Option(
            "--api-base-url",
            envvar="CRUNCH_API_BASE_URL",
            help="Hub to talk to. Default: the one recorded in the workspace, else the local hub.",
        ),
    ] = None,
    web_base_url: Annotated[
        str | None,
        typer.Option(
            "--web-base-url",
            envvar="CRUNCH_WEB_BASE_URL",
            help="The hub's website, shown by `crunch status`. Default: the hub's own address.",
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            "--env",
            envvar="CRUNCH_ENVIRONMENT",
            callback=_check_environment,
            metavar="|".join(ENVIRONMENTS),
            help="crunch-cli's named hubs, used when --api-base-url is not given: production "
            "(prod), staging (test), or development (dev, local): the local hub.",
        ),
    ] = None,
    competitions: Annotated[
        str | None,
        typer.Option(
            "--competitions",
            envvar="CRUNCH_COMPETITIONS_SOURCE",
            help="Where competitions' own modules come from, crunch-cli's syntax: local://DIR, "
            "cache+http(s)://HOST, github://OWNER/REPO, comma-separated. Default: the hub.",
        ),
    ] = None,
    hide_tips: Annotated[
        bool,
        typer.Option(
            "--hide-tips", envvar="CRUNCH_HIDE_TIPS", help="Do not print the next steps to try."
        ),
    ] = False,
) -> None:
    if debug:
        _log_http(ctx)
    ctx.obj = State(
        debug=debug,
        hide_tips=hide_tips,
        settings=Settings(
            api_base_url=api_base_url,
            environment=environment,
            web_base_url=web_base_url,
            competitions_source=competitions,
        ),
    )


commands.register(app)


def main() -> None:
    try:
        sys.exit(app(standalone_mode=True))
    except Exception as error:  # --debug, or a bug: the traceback, made safe to print
        echo("".join(traceback.format_exception(error)).rstrip(), err=True)
        sys.exit(getattr(error, "exit_code", 1))
