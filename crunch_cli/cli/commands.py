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
    hub,
    hubinfo,
    organizer,
    push,
    quickstarter,
    quota,
    run,
    runtime,
    setup,
    submission,
    test,
)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo.demo)
    app.command("setup")(setup.setup)
    app.command("init")(setup.init)
    app.command("setup-notebook")(setup.setup_notebook)
    app.command("download")(setup.download)
    app.command("update-token")(setup.update_token)
    app.command("setup-command")(setup.setup_command)
    app.command("list")(hubinfo.list_competitions)
    app.command("convert")(convert.convert)
    app.command("test")(test.test)
    app.command("push")(push.push)
    app.add_typer(submission.app)
    app.add_typer(run.app)
    app.command("leaderboard")(run.leaderboard)
    app.command("status")(run.status)
    app.command("quota")(quota.quota)
    app.add_typer(runtime.app)
    app.add_typer(quickstarter.app)
    app.add_typer(submission.whitelist_app)
    app.command("ping")(hubinfo.ping)
    app.add_typer(hub.app)
    app.add_typer(organizer.app)
