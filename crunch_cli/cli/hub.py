"""`crunch hub ...`: run a hub and manage it as its organizer.

These commands work on the hub's root folder directly (its SQLite database and blobs),
not over HTTP, so they also work while `crunch hub serve` is running on the same root.
The hub modules are imported inside each command: `crunch --help` must stay light.
"""

import dataclasses
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crunch_cli.runner.spec import BUILT_IN
from crunch_cli.setup_line import setup_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crunch_cli.hub.competition_modules import StoredModule
    from crunch_cli.hub.settings import HubSettings

DEFAULT_ROOT = Path("crunch-hub")
DEFAULT_URL = "http://127.0.0.1:8000"
DEMO_USER = "demo"
DEMO_PROJECT = "starter"
FORMAT_CHOICES = tuple(built_in.label for built_in in BUILT_IN.values())
UNSTRUCTURED = "unstructured"

app = typer.Typer(
    name="hub",
    help="Run a competition hub and manage its competitions (for organizers).",
    no_args_is_help=True,
)
competition_app = typer.Typer(
    help="Create, list and change the hub's competitions.", no_args_is_help=True
)
app.add_typer(competition_app, name="competition")
quickstarter_app = typer.Typer(
    help="Starter code the hub offers a competition's participants.", no_args_is_help=True
)
competition_app.add_typer(quickstarter_app, name="quickstarter")
whitelist_app = typer.Typer(
    help="Review the participants' requests to whitelist libraries.", no_args_is_help=True
)
app.add_typer(whitelist_app, name="whitelist")
db_app = typer.Typer(help="The hub's database and its schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        envvar="CRUNCH_HUB_ROOT",
        help="The hub's folder (database, blobs, signing key). Default: ./crunch-hub.",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CRUNCH_HUB_DATABASE_URL",
        help="The hub's database: sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/NAME. "
        "Default: ROOT/hub.sqlite3.",
    ),
]
BlobStoreOption = Annotated[
    str | None,
    typer.Option(
        "--blob-store",
        envvar="CRUNCH_HUB_BLOB_STORE",
        help="Where the hub keeps its files: s3://BUCKET/PREFIX, any S3-compatible store "
        "(credentials and region from the AWS variables). Default: ROOT/blobs.",
    ),
]
S3EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--s3-endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help="The S3-compatible server of --blob-store (default: AWS's own).",
    ),
]


def _settings(
    root: Path | None, database_url: str | None, *, create: bool = False, **options: Any
) -> "HubSettings":
    """The settings of the hub at `root` (./crunch-hub when not given). Only `serve`, and
    a command with `create` given a root or a database explicitly, may start a new hub: an
    organizer command run in the wrong folder says so instead of working on a new, empty hub."""
    from crunch_cli.errors import CrunchError
    from crunch_cli.hub.settings import HubSettings

    settings = HubSettings(root=root or DEFAULT_ROOT, database_url=database_url, **options)
    if settings.exists or (create and (root is not None or database_url is not None)):
        return settings
    raise CrunchError(
        f"there is no hub in {settings.root}",
        hint="pass the folder `crunch hub serve` uses with --root DIR (or set CRUNCH_HUB_ROOT)"
        if root is None
        else "check the folder; `crunch hub serve --root DIR` starts a hub there",
    )


def _check_format(value: str) -> str:
    if value.lower() not in FORMAT_CHOICES:
        raise typer.BadParameter(f"choose one of: {', '.join(FORMAT_CHOICES)}")
    return value.lower()


def _check_competition_format(value: str) -> str:
    return UNSTRUCTURED if value.lower() == UNSTRUCTURED else _check_format(value)


def _token_command(competition: str, user: str, project: str, root: Path, url: str) -> str:
    return shlex.join(
        ["crunch", "hub", "token", competition, user, project, "--root", str(root), "--url", url]
    )


def _minutes(settings: "HubSettings") -> str:
    minutes = settings.setup_token_ttl.total_seconds() / 60
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


EXECUTORS = ("local", "ray")


def _check_executor(value: str) -> str:
    if value not in EXECUTORS:
        raise typer.BadParameter(f"use one of: {', '.join(EXECUTORS)}")
    return value


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free one).")
    ] = 8000,
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
    s3_region: Annotated[
        str | None,
        typer.Option(
            "--s3-region",
            envvar="AWS_REGION",
            help="The region of --blob-store's bucket (default: AWS_DEFAULT_REGION, the "
            "profile's, or us-east-1 with --s3-endpoint-url).",
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            envvar="CRUNCH_HUB_SECRET_FILE",
            help="The deployment's signing key (at least 32 bytes, mode 600), the same file "
            "for every hub serving these competitions. Default: ROOT/secret, made on the "
            "first start.",
        ),
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="Base URL clients use, when behind a proxy."),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Add one demo competition per format, print tokens.")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="How many submissions run at once (0: runs wait in the queue).",
        ),
    ] = 1,
    unsafe_no_sandbox: Annotated[
        bool,
        typer.Option(
            "--unsafe-no-sandbox",
            help="Run submissions without bubblewrap: they can then read and change the "
            "hub's files. Only for code you trust.",
        ),
    ] = False,
    allowed_hosts: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Another Host name clients use (repeatable; '*' accepts any). "
            "Loopback names and the --public-url host are always accepted.",
        ),
    ] = None,
    project_token_days: Annotated[
        float,
        typer.Option(
            "--project-token-days", min=0, help="Days a project token lasts (0: forever)."
        ),
    ] = 90,
    upload_quota: Annotated[
        int | None,
        typer.Option(
            "--upload-quota",
            min=1,
            help="Bytes a project may hold in unfinished or unused uploads. Default: twice "
            "the competition's code and model limits.",
        ),
    ] = None,
    max_requests: Annotated[
        int,
        typer.Option(
            "--max-requests", min=1, help="Requests served at once; more get 503 and retry."
        ),
    ] = 256,
    openapi: Annotated[
        bool, typer.Option("--openapi/--no-openapi", help="Serve the API schema.")
    ] = True,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            callback=_check_executor,
            help="Where runs execute: local (this machine, --workers at once) or ray (a Ray "
            "cluster, --workers runs on it at once).",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            envvar="RAY_ADDRESS",
            help="With --executor ray: the cluster's head, HOST:PORT (as `ray start --head` "
            "prints it).",
        ),
    ] = None,
) -> None:
    """Run the hub until Ctrl-C."""
    from datetime import timedelta

    from crunch_cli.hub import demo as demo_data
    from crunch_cli.hub import organizer, server

    settings = _settings(
        root or DEFAULT_ROOT,
        database_url,
        blob_store=blob_store,
        s3_endpoint_url=s3_endpoint_url,
        s3_region=s3_region,
        secret_file=secret_file,
        create=True,
        public_url=public_url,
        workers=workers,
        sandbox=not unsafe_no_sandbox,
        allowed_hosts=tuple(allowed_hosts or ()),
        project_token_ttl=timedelta(days=project_token_days) if project_token_days else None,
        upload_quota=upload_quota,
        max_requests_in_flight=max_requests,
        openapi=openapi,
        executor=executor,
        ray_address=ray_address,
    )
    if unsafe_no_sandbox:
        typer.echo(
            "warning: --unsafe-no-sandbox: submissions run unconfined and can read and change "
            "this hub's files (its key, database and hidden data)",
            err=True,
        )
    names = demo_data.create_demo_competitions(settings) if demo else []

    def announce(url: str) -> None:
        shown = public_url or url
        typer.echo(f"crunch hub serving at {shown} (root: {settings.root})")
        if not names:
            return
        typer.echo(f"\nDemo competitions; each line works once, for {_minutes(settings)}:")
        for name in names:
            token = organizer.mint_setup_token(settings, name, DEMO_USER, DEMO_PROJECT)
            typer.echo(f"  {setup_line(shown, name, DEMO_PROJECT, token)}")
        typer.echo("\nMore tokens (pick any user and project names):")
        typer.echo(f"  {_token_command(names[0], DEMO_USER, DEMO_PROJECT, settings.root, shown)}")
        typer.echo("")

    server.serve(settings, host, port, on_ready=announce)


@app.command("token")
def token(
    competition: Annotated[str, typer.Argument(help="Competition name.")],
    user: Annotated[str, typer.Argument(help="User login (created if new).")],
    project: Annotated[str, typer.Argument(help="Project name (created if new).")],
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The hub's URL, for the printed setup line. Default: the URL of the hub "
            "serving this root, else " + DEFAULT_URL + ".",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Mint a one-time setup token and print the `crunch setup` line that uses it."""
    from crunch_cli.hub import organizer, serving

    settings = _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url)
    if url is None:
        url = serving.served_url(settings)
    if url is None:
        url = DEFAULT_URL
        typer.echo(
            f"note: no hub serves {settings.root} now; the line below assumes {url} "
            "(pass --url to name another)",
            err=True,
        )
    plain = organizer.mint_setup_token(settings, competition, user, project)
    typer.echo(f"Setup token for {user}/{project} (usable once, for {_minutes(settings)}):")
    typer.echo(f"  {plain}")
    typer.echo("Run:")
    typer.echo(f"  {setup_line(url.rstrip('/'), competition, project, plain)}")


@competition_app.command("create")
def create_competition(
    name: Annotated[str, typer.Argument(help="Competition name (letters, digits, - _ .).")],
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Folder with X_train, y_train, X_test, example_prediction parquet; for "
            "unstructured, any files (hidden/ stays on the hub).",
        ),
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            callback=_check_competition_format,
            help=", ".join((*FORMAT_CHOICES, UNSTRUCTURED)) + ".",
        ),
    ] = "timeseries",
    modules: Annotated[
        Path | None,
        typer.Option(
            "--modules",
            help="Unstructured: folder with runner.py, scoring.py (and optionally "
            "leaderboard.py, reward.py, submission.py).",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="Unstructured: the target's name. Default: target."),
    ] = None,
    id_column: Annotated[str, typer.Option("--id-column")] = "id",
    moon_column: Annotated[
        str, typer.Option("--moon-column", help="Time column (ignored for cross-sectional).")
    ] = "moon",
    target_column: Annotated[
        str | None,
        typer.Option(
            "--target-column",
            help="Default: y_train's one column besides the id and moon, else target.",
        ),
    ] = None,
    prediction_column: Annotated[
        str | None,
        typer.Option(
            "--prediction-column",
            help="Default: example_prediction's one column besides the keys, else prediction.",
        ),
    ] = None,
    embargo: Annotated[
        int, typer.Option("--embargo", min=0, help="Moons left out before each test moon.")
    ] = 0,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="spearman, accuracy, rmse or logloss (default: per format). Unstructured: "
            "any names its scoring.py computes, repeatable; the first ranks.",
        ),
    ] = None,
    lower_is_better: Annotated[
        bool,
        typer.Option("--lower-is-better", help="Unstructured: lower scores rank higher."),
    ] = False,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    runtimes: Annotated[
        str,
        typer.Option("--runtimes", help="Runtimes runs may ask for: cpu, gpu or cpu,gpu."),
    ] = "cpu",
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Register a competition from a data folder (and, for unstructured, its modules)."""
    from crunch_cli.errors import CrunchError
    from crunch_cli.hub import organizer

    limits = organizer.CompetitionLimits(runtimes=organizer.check_runtimes([runtimes]))
    settings = _settings(
        root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url, create=True
    )
    metrics = metric or []
    if format == UNSTRUCTURED:
        if modules is None:
            raise CrunchError(
                "an unstructured competition needs its modules",
                hint="pass --modules DIR, the folder holding runner.py and scoring.py",
            )
        summary = organizer.create_unstructured_competition(
            settings,
            name,
            data_dir,
            modules,
            metrics=metrics,
            target=target or organizer.DEFAULT_TARGET,
            lower_is_better=lower_is_better,
            display_name=display_name,
            limits=limits,
        )
    else:
        given = [
            option
            for option, value in (
                ("--modules", modules),
                ("--target", target),
                ("--lower-is-better", lower_is_better),
            )
            if value
        ]
        if given or len(metrics) > 1:
            raise CrunchError(
                f"{', '.join(given) or 'a second --metric'} only goes with --format unstructured",
                hint=f"the {format} format runs and scores with the hub's own modules: drop it "
                "(--target-column names its target column)",
            )
        summary = organizer.create_competition(
            settings,
            name,
            data_dir,
            format=format,
            id_column=id_column,
            moon_column=moon_column,
            target_column=target_column,
            prediction_column=prediction_column,
            embargo=embargo,
            metric=metrics[0] if metrics else None,
            display_name=display_name,
            limits=limits,
        )
    typer.echo(f"created competition {summary.name} (id {summary.id}, {summary.format})")
    for item in summary.files:
        where = "hidden" if item.hidden else "release"
        typer.echo(f"  {where:8} {item.key:20} {item.size:>12,} bytes  sha256 {item.sha256[:12]}")
    _echo_modules(summary.modules)


@competition_app.command("modules")
def competition_modules(
    name: Annotated[str, typer.Argument(help="Competition name.")],
    modules: Annotated[
        Path,
        typer.Argument(help="Folder with runner.py, scoring.py (and optional others)."),
    ],
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Replace an unstructured competition's modules (runner.py, scoring.py, ...)."""
    from crunch_cli.hub import organizer

    stored = organizer.replace_modules(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url),
        name,
        modules,
    )
    typer.echo(f"replaced the modules of {name}")
    _echo_modules(stored)


def _echo_modules(modules: "Sequence[StoredModule]") -> None:
    for item in modules:
        typer.echo(
            f"  module   {item.kind + '.py':20} {item.size:>12,} bytes  sha256 {item.sha256[:12]}"
        )


@competition_app.command("list")
def list_competitions(
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """List the hub's competitions."""
    from crunch_cli.hub import organizer

    summaries = organizer.list_competitions(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url)
    )
    if not summaries:
        typer.echo("no competitions yet: add one with `crunch hub competition create`")
        return
    for item in summaries:
        typer.echo(f"{item.id:>4}  {item.name:30} {item.format:11} {item.metric}")


@competition_app.command("limits")
def competition_limits(
    name: Annotated[str, typer.Argument(help="Competition name.")],
    max_code_size: Annotated[
        int | None, typer.Option("--max-code-size", min=0, help="Bytes of code per submission.")
    ] = None,
    max_model_size: Annotated[
        int | None, typer.Option("--max-model-size", min=0, help="Bytes of model files.")
    ] = None,
    submissions_per_day: Annotated[
        int | None, typer.Option("--submissions-per-day", min=0, help="Per user, UTC day.")
    ] = None,
    run_time_limit: Annotated[
        int | None, typer.Option("--run-time-limit", min=1, help="Seconds per hub run.")
    ] = None,
    run_memory_limit: Annotated[
        int | None, typer.Option("--run-memory-limit", min=1, help="MB per hub run.")
    ] = None,
    run_cpus: Annotated[
        int | None,
        typer.Option("--run-cpus", min=1, help="CPUs a Ray worker reserves for a run."),
    ] = None,
    queue_timeout: Annotated[
        int | None,
        typer.Option(
            "--queue-timeout",
            min=1,
            help="Seconds a run may wait for a worker able to run it before it fails.",
        ),
    ] = None,
    runtimes: Annotated[
        str | None,
        typer.Option("--runtimes", help="Runtimes runs may ask for: cpu, gpu or cpu,gpu."),
    ] = None,
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Show a competition's limits, changing those given."""
    from crunch_cli.hub import organizer

    settings = _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url)
    changes = {
        "max_code_size": max_code_size,
        "max_model_size": max_model_size,
        "submissions_per_day": submissions_per_day,
        "run_time_limit_seconds": run_time_limit,
        "run_memory_limit_mb": run_memory_limit,
        "run_cpus": run_cpus,
        "queue_timeout_seconds": queue_timeout,
    }
    limits = organizer.update_limits(
        settings,
        name,
        runtimes=None if runtimes is None else [runtimes],
        **{key: value for key, value in changes.items() if value is not None},
    )
    for key, value in dataclasses.asdict(limits).items():
        shown = ",".join(value) if isinstance(value, tuple) else value
        typer.echo(f"{key.replace('_', '-'):24} {shown}")


@app.command("demo-data")
def demo_data(
    directory: Annotated[Path, typer.Argument(help="Folder to write (must be empty or new).")],
    format: Annotated[
        str,
        typer.Option("--format", callback=_check_format, help=", ".join(FORMAT_CHOICES) + "."),
    ] = "timeseries",
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
) -> None:
    """Write a demo data folder: the layout `competition create` expects."""
    from crunch_cli.errors import WorkspaceExistsError
    from crunch_cli.hub import demo

    if directory.exists() and any(directory.iterdir()) and not force:
        raise WorkspaceExistsError(
            f"{directory} is not empty", hint="pick a new folder, or pass --force"
        )
    kwargs = demo.GENERATORS[format](directory)
    typer.echo(f"wrote {format} demo data to {directory}:")
    for path in sorted(directory.rglob("*.parquet")):
        typer.echo(f"  {path.relative_to(directory)}")
    typer.echo("register it with:")
    typer.echo(
        "  "
        + shlex.join(
            ["crunch", "hub", "competition", "create", "my-competition"]
            + ["--data-dir", str(directory), "--format", format]
            + (["--embargo", str(kwargs["embargo"])] if kwargs.get("embargo") else [])
        )
    )


@quickstarter_app.command("add")
def add_quickstarter(
    competition: Annotated[str, typer.Argument(help="Competition name.")],
    files: Annotated[
        list[Path], typer.Argument(help="Its files (main.py, main.ipynb, requirements.txt...).")
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Its name (default: the first file's name, less suffix)."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="A one-line title.")] = None,
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Offer files as a quickstarter of the competition (replacing one of that name)."""
    from crunch_cli.hub.quickstarters import add_quickstarter as add

    added = add(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url),
        competition,
        files,
        name=name,
        title=title,
    )
    typer.echo(f"added quickstarter {added.name} to {competition}")
    for item in added.files:
        typer.echo(f"  {item.name:30} {item.size:>12,} bytes  sha256 {item.sha256[:12]}")


@whitelist_app.command("requests")
def whitelist_requests(
    pending: Annotated[
        bool, typer.Option("--pending", help="Only those waiting for a verdict.")
    ] = False,
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """List the requests to whitelist a library, oldest first."""
    from crunch_cli.hub.library_requests import list_requests

    found = list_requests(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url),
        pending_only=pending,
    )
    if not found:
        typer.echo("no library requests")
        return
    for item in found:
        alias = f"(alias {item.alias})" if item.alias else None
        library = " ".join(part for part in (item.name, alias) if part)
        gpu = f", gpu {item.gpu_requirement.lower()}" if item.gpu_requirement else ""
        verdict = item.verdict.lower() + (f": {item.verdict_reason}" if item.verdict_reason else "")
        typer.echo(
            f"#{item.id} {item.created_at:%Y-%m-%d %H:%M} {item.competition} "
            f"{item.user}/{item.project}: {library} [{item.language.lower()}{gpu}] {verdict}"
        )
        if item.additional_details:
            typer.echo(f"    {item.additional_details}")


@whitelist_app.command("approve")
def whitelist_approve(
    name: Annotated[str, typer.Argument(help="The library's name or alias, as requested.")],
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Whitelist a requested library (in ROOT/libraries.json) and approve its requests."""
    from crunch_cli.hub.library_requests import approve

    approved = approve(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url), name
    )
    typer.echo(f"whitelisted {name}; approved request {_numbers(approved)}")


@whitelist_app.command("reject")
def whitelist_reject(
    name: Annotated[str, typer.Argument(help="The library's name or alias, as requested.")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, for the participants.")
    ] = None,
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Reject the pending requests for a library."""
    from crunch_cli.hub.library_requests import reject

    rejected = reject(
        _settings(root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url),
        name,
        reason,
    )
    typer.echo(f"rejected request {_numbers(rejected)} for {name}")


@db_app.command("upgrade")
def db_upgrade(
    root: RootOption = None,
    database_url: DatabaseOption = None,
    blob_store: BlobStoreOption = None,
    s3_endpoint_url: S3EndpointOption = None,
) -> None:
    """Bring the hub's database to the newest schema.

    Every hub and `crunch hub` command does it when it opens the database: this does it
    ahead of a start, or checks a --database-url.
    """
    from crunch_cli.hub.store import upgrade_database

    change = upgrade_database(
        _settings(
            root, database_url, blob_store=blob_store, s3_endpoint_url=s3_endpoint_url, create=True
        )
    )
    if change.adopted:
        typer.echo(f"database made before migrations: completed, now at revision {change.after}")
    elif change.before is None:
        typer.echo(f"database created at revision {change.after}")
    elif change.changed:
        typer.echo(f"database upgraded from revision {change.before} to {change.after}")
    else:
        typer.echo(f"database already at the newest revision, {change.after}")


def _numbers(ids: "Sequence[int]") -> str:
    return ", ".join(f"#{number}" for number in ids)
