"""Where every command module is attached to the root app, in help order.

The command modules keep real annotations (no `from __future__ import annotations`):
typer reads the signature of every command at each start, and string annotations cost it
an `eval` each, a fifth of the start-up time of `crunch --help`.
"""

from __future__ import annotations

import typer

from crunch_cli.cli import (
    convert,
    demo,
    download,
    hub,
    init,
    leaderboard,
    list_competitions,
    organizer,
    ping,
    push,
    quickstarter,
    quota,
    run,
    runtime,
    setup,
    setup_command,
    setup_notebook,
    status,
    submission,
    test,
    update_token,
    whitelist,
)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo.demo)
    app.command("setup")(setup.setup)
    app.command("init")(init.init)
    app.command("setup-notebook")(setup_notebook.setup_notebook)
    app.command("download")(download.download)
    app.command("update-token")(update_token.update_token)
    app.command("setup-command")(setup_command.setup_command)
    app.command("list")(list_competitions.list_competitions)
    app.command("convert")(convert.convert)
    app.command("test")(test.test)
    app.command("push")(push.push)
    app.add_typer(submission.app)
    app.add_typer(run.app)
    app.command("leaderboard")(leaderboard.leaderboard)
    app.command("status")(status.status)
    app.command("quota")(quota.quota)
    app.add_typer(runtime.app)
    app.add_typer(quickstarter.app)
    app.add_typer(whitelist.app)
    app.command("ping")(ping.ping)
    app.add_typer(hub.app)
    app.add_typer(organizer.app)
