"""`crunch push`: build the bundle, then show it (--dry), zip it (--export) or send it."""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crunch_cli.cli.output import add_row, echo, human_size
from crunch_cli.cli.state import State
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.environments import WorkspaceSettings
    from crunch_cli.push.bundle import Bundle
    from crunch_cli.push.upload import UploadCache


def push(
    ctx: typer.Context,
    message: Annotated[
        str | None,
        typer.Option("-m", "--message", help="What changed (asked for on a terminal)."),
    ] = None,
    main_file: Annotated[
        str, typer.Option("--main-file", help="The file that defines train() and infer().")
    ] = "main.py",
    model_directory: Annotated[
        str | None,
        typer.Option(
            "--model-directory", help="Your model files. Default: the one setup recorded."
        ),
    ] = None,
    no_pip_freeze: Annotated[
        bool,
        typer.Option("--no-pip-freeze", help="Send requirements.txt without pinning versions."),
    ] = False,
    dry: Annotated[
        bool,
        typer.Option(
            "--dry", help="Print what would be sent and check it against the hub's whitelist."
        ),
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Write the bundle as a reproducible zip; no network call."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --export file.")] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Then run it on the hub, follow the logs, print the score."),
    ] = False,
    allow_secret: Annotated[
        list[Path] | None,
        typer.Option(
            "--allow-secret",
            metavar="PATH",
            help="Send this file although it looks like a secret (repeatable).",
        ),
    ] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", hidden=True, min=1)] = None,
) -> None:
    """Send your code and model files as a new submission."""
    from crunch_cli.push.bundle import build_bundle
    from crunch_cli.push.submit import check_message
    from crunch_cli.push.upload import CACHE_FILE, CHUNK_SIZE, UploadCache

    state: State = ctx.obj
    settings = state.workspace()
    workspace = settings.workspace
    cache = UploadCache(workspace.metadata_dir / CACHE_FILE)
    bundle = build_bundle(
        workspace,
        main_file=main_file,
        model_directory=model_directory,
        freeze=not no_pip_freeze,
        cache=cache,
        allow_secrets={_workspace_path(workspace, path) for path in allow_secret or []},
    )
    for note in bundle.notes:
        echo(f"note: {note}", err=True)

    if dry or export:
        if dry:
            _print_manifest(bundle, cache)
            _check_libraries(settings, bundle)
        if export:
            from crunch_cli.push.export import export_zip

            export_zip(bundle, export, force=force)
            echo(f"Wrote {export} ({len(bundle.files)} files and manifest.json)")
        return

    if message is None:
        message = typer.prompt("Message", default="", show_default=False) if _interactive() else ""
    check_message(message)
    from crunch_cli.cli.transfers import Uploads
    from crunch_cli.push.submit import submit

    client = settings.client()
    with Uploads() as progress:
        submission, sent = submit(
            client,
            workspace,
            bundle,
            cache,
            message=message,
            progress=progress,
            chunk_size=chunk_size or CHUNK_SIZE,
        )
    echo(
        f"Submission #{submission['number']} created: {len(bundle.files)} files, "
        f"{human_size(sent)} sent"
    )
    if wait:
        from crunch_cli.cli.run import report_score, watch
        from crunch_cli.runs import create_run, raise_if_failed

        run = create_run(client, submission=submission["number"])
        echo(f"Run {run['id']} created; following its logs")
        finished = watch(client, run["id"], timeout=None)
        report_score(client, finished)
        raise_if_failed(finished)


def _check_libraries(settings: "WorkspaceSettings", bundle: "Bundle") -> None:
    """What the real push would refuse, said by the dry run (skipped if the hub is away)."""
    from crunch_cli.cli.libraries import forbidden_libraries
    from crunch_cli.errors import PushError

    forbidden = forbidden_libraries(settings, bundle.requirements)
    if forbidden:
        raise PushError(
            "not allowed on this competition: " + ", ".join(forbidden),
            hint="remove them from requirements.txt and your imports "
            "(`crunch whitelist search NAME` lists what is allowed)",
        )


def _workspace_path(workspace: Workspace, path: Path) -> str:
    """--allow-secret PATH as the error names it: relative to the workspace, from any folder.

    Normalised without resolving links, so a link is allowed by its own name.
    """
    absolute = Path(os.path.normpath(Path.cwd() / path))
    try:
        return absolute.relative_to(workspace.root).as_posix()
    except ValueError:
        raise typer.BadParameter(
            f"{path} is outside the workspace {workspace.root}", param_hint="--allow-secret"
        ) from None


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _print_manifest(bundle: "Bundle", cache: "UploadCache") -> None:
    """A table on a terminal; piped, one tab-separated line per file with the full path, the
    size in bytes and the full sha256, for a program or a later comparison to read."""
    from crunch_cli.push.export import archive_path

    rows = []
    cached = 0
    for file in bundle.files:
        known = cache.upload_id(file.blob.sha256) is not None
        cached += file.blob.size if known else 0
        state = "cached" if known else file.origin
        rows.append((archive_path(bundle, file), file.kind, file.blob, state))
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("path", "kind", "size", "sha256", "", box=None)
        for path, kind, blob, state in rows:
            add_row(table, path, kind, human_size(blob.size), blob.sha256[:12], state)
        Console().print(table)
    else:
        for path, kind, blob, state in rows:
            echo("\t".join((path, kind, str(blob.size), blob.sha256, state)))
    total = bundle.size("code") + bundle.size("model")
    echo(
        f"{len(bundle.files)} files: code {human_size(bundle.size('code'))}, "
        f"model {human_size(bundle.size('model'))}, total {human_size(total)}; "
        f"{human_size(cached)} already uploaded (cached)"
    )
