"""`crunch setup`: trade a one-time setup token for a workspace.

Everything that can fail before the workspace is whole (a bad token, a wrong competition,
a folder that is not ours to fill) fails before anything is written. The workspace is
assembled in a hidden sibling folder and renamed into place, so an interrupted setup
leaves nothing half-made. The data comes last, into the finished workspace: a dropped
download then costs a `crunch download`, not the single-use token.
"""

from __future__ import annotations

import dataclasses
import secrets
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from crunch_cli.api import HubClient, ProjectClient
from crunch_cli.download import Outcome, Progress, download_data
from crunch_cli.errors import (
    CrunchError,
    DownloadError,
    InvalidTokenError,
    NotFoundError,
    WorkspaceError,
    WorkspaceExistsError,
)
from crunch_cli.setup_line import setup_line
from crunch_cli.submissions import CheckoutResult, checkout
from crunch_cli.workspace import (
    DATA_DIRECTORY,
    DEFAULT_MODEL_DIRECTORY,
    METADATA_DIRECTORY,
    ProjectConfig,
    Workspace,
)

if TYPE_CHECKING:
    from crunch_cli.environments import WorkspaceSettings

_TOKEN_HINT = (
    "a setup token works once, within 3 minutes: for a new project, copy a fresh one from the "
    "competition page; for an existing one, ask the organizer (`crunch hub token COMPETITION "
    "USER PROJECT`) or run `crunch setup-command` where the project already works"
)

API_KEY_TOKEN = "@api-key"
"""crunch-cli 13's stand-in for a setup token: sign in with the notebook platform's
`CRUNCH_API_KEY` secret instead. Our hub has no API keys, so it is refused before anything
is looked up or written."""


@dataclasses.dataclass
class SetupResult:
    workspace: Workspace
    downloads: dict[str, Outcome] | None = None
    restored: CheckoutResult | None = None
    data_error: CrunchError | None = None


def setup_project(
    *,
    competition: str,
    project: str | None,
    token: str,
    base_url: str,
    directory: Path | None = None,
    force: bool = False,
    in_place: bool = False,
    with_data: bool = True,
    model_directory: str = DEFAULT_MODEL_DIRECTORY,
    size_variant: str = "default",
    include_model: bool = False,
    submission: int | Literal["latest"] | None = "latest",
    progress: Progress | None = None,
    competitions_source: str | None = None,
) -> SetupResult:
    """`submission` is the one to restore: "latest" (none yet is fine), a number, or None
    for a workspace from scratch. `project` None takes the token's project, whatever its
    name: a notebook is set up from the token alone.

    `in_place` sets up in a folder that already holds the user's files (a notebook's folder,
    set up again each time the notebook runs): they are kept, as with `force`, but data
    files already up to date are not downloaded again.
    """
    _refuse_api_key(token)
    target = (directory or Path(f"{competition}-{project}")).absolute()
    _check_target(target, force=force or in_place)

    # An unknown competition must not cost the single-use token: look it up first.
    remote_competition = HubClient(base_url).competition(competition)
    named = _Named(remote_competition["name"], project)
    upgraded = _upgrade(base_url, token, named)
    project_token = upgraded["plain"]
    remote_project = upgraded["project"]
    # Our hub refuses a token of another project unspent; another hub may not: check anyway.
    if remote_project.get("competitionId") != remote_competition["id"] or (
        project is not None and remote_project.get("name") not in (None, project)
    ):
        raise WorkspaceError(
            f"this setup token was for project {remote_project.get('name')!r} of another "
            f"competition or project than {project!r} of {competition!r}; nothing was set up",
            hint="copy the setup command from the page of the competition you want to join",
        )

    config = ProjectConfig(
        competition_name=remote_competition["name"],
        project_name=_project_name(remote_project, project),
        user_id=int(remote_project["userId"]),
        api_base_url=base_url,
        size_variant=size_variant,
        model_directory=model_directory,
    )
    workspace = _assemble(target, config, project_token)
    client = HubClient(base_url, project_token).project(
        config.competition_name, config.user_id, config.project_name
    )
    result = SetupResult(workspace)
    if submission is not None:
        number = None if submission == "latest" else submission
        try:
            result.restored = checkout(
                client,
                workspace,
                number=number,
                include_model=include_model,
                keep_local=True,
                progress=progress,
            )
        except NotFoundError as error:
            if number is not None or error.code != "NEVER_SUBMITTED":
                error.hint = (
                    f"your workspace is ready in {target} without it: `crunch submission "
                    "list` there shows the ones `crunch submission checkout` can restore"
                )
                raise
        except DownloadError as error:
            error.hint = _restore_hint(target, number)
            raise
    if with_data:
        try:
            result.downloads = download_data(
                client,
                workspace,
                force=force,
                progress=progress,
                competitions_source=competitions_source,
            )
        except CrunchError as error:
            result.data_error = error
    return result


def _project_name(remote_project: dict[str, Any], named: str | None) -> str:
    name = remote_project.get("name") or named
    if not name:
        raise WorkspaceError(
            "the hub did not say which project this setup token is for",
            hint="name the project: `crunch setup-notebook COMPETITION TOKEN PROJECT`",
        )
    return str(name)


def _restore_hint(target: Path, number: int | None) -> str:
    """The token is spent, but the workspace is whole: the restore alone can be redone."""
    return (
        f"your workspace is ready in {target}: run `crunch submission checkout "
        f"{'@last' if number is None else number}` there to try the restore again"
    )


def renew_token(settings: WorkspaceSettings, setup_token: str) -> None:
    """Trade a fresh setup token for a project token, for the workspace's project only.

    The current token goes along, so that the hub revokes it: a token that leaked stops
    working once it is replaced.
    """
    _refuse_api_key(setup_token)
    config = settings.config
    try:
        current: str | None = settings.token()
    except WorkspaceError:
        current = None
    competition = settings.public_client().competition()
    upgraded = _upgrade(
        settings.base_url,
        setup_token,
        _Named(config.competition_name, config.project_name),
        current,
    )
    project = upgraded["project"]
    if (
        int(project["userId"]) != config.user_id
        or project.get("name") != config.project_name
        or project.get("competitionId") != competition["id"]
    ):
        raise WorkspaceError(
            f"this setup token is for project {project.get('name')!r}, "
            f"not this workspace's {config.project_name!r} of {config.competition_name!r}",
            hint="ask for a setup token of this project: the organizer's `crunch hub token`, "
            "or `crunch setup-command` where the project already works",
        )
    settings.workspace.write_token(upgraded["plain"])


def setup_command(client: ProjectClient) -> tuple[str, datetime]:
    """A `crunch setup` line for `client`'s project and when it stops working (UTC): a
    one-time setup token minted with the project token, to set the project up on another
    machine.
    """
    created = client.create_setup_token()
    line = setup_line(
        client.base_url, client.competition_name, client.project_name, created["plain"]
    )
    valid_until = datetime.fromisoformat(created["validUntil"]).replace(tzinfo=timezone.utc)
    return line, valid_until


@dataclasses.dataclass(frozen=True)
class _Named:
    """The competition and project the user means the setup token for (None: any)."""

    competition: str
    project: str | None


def _refuse_api_key(token: str) -> None:
    if token == API_KEY_TOKEN:
        raise InvalidTokenError(
            "UNAUTHORIZED",
            f"`{API_KEY_TOKEN}` signs in with a notebook platform's CRUNCH_API_KEY secret, "
            "and this client and its hub have no API keys",
            status=0,
            hint="use a one-time setup token from the competition page instead; `-` as the "
            "token reads it from standard input, and CRUNCH_SETUP_TOKEN works too",
        )


def _upgrade(
    base_url: str, setup_token: str, named: _Named, current_token: str | None = None
) -> dict[str, Any]:
    if not setup_token:
        raise InvalidTokenError(
            "INVALID_PROJECT_TOKEN", "the setup token is empty", status=0, hint=_TOKEN_HINT
        )

    def upgrade(token: str | None) -> dict[str, Any]:
        return HubClient(base_url, token).upgrade_token(
            setup_token, competition=named.competition, project=named.project
        )

    try:
        try:
            return upgrade(current_token)
        except InvalidTokenError as error:
            # A hub that refuses the expired current token itself, not the setup token,
            # has not spent the setup token: upgrade without revoking, as other clients do.
            if current_token is None or error.extras.get("tokenType") == "CLONE":
                raise
            return upgrade(None)
    except InvalidTokenError as error:
        error.message = "the setup token is invalid, already used or expired"
        error.hint = _TOKEN_HINT
        raise


def _check_target(target: Path, *, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise WorkspaceExistsError(
            f"{target} exists and is not a folder", hint="pass another DIRECTORY"
        )
    if target.is_dir() and any(target.iterdir()) and not force:
        raise WorkspaceExistsError(
            f"{target} is not empty",
            hint="pass another DIRECTORY, or --force to set up inside it (your files are kept)",
        )


def _assemble(target: Path, config: ProjectConfig, project_token: str) -> Workspace:
    """Build the skeleton beside `target`, then move it in with renames only."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.setup-{secrets.token_hex(4)}"
    try:
        staged = Workspace(staging)
        staged.write_config(config)
        staged.write_token(project_token)
        for folder in (DATA_DIRECTORY, config.model_directory):
            (staging / folder).mkdir(parents=True, exist_ok=True)
        if not target.exists():
            staging.rename(target)
        else:
            _move_into(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Workspace(target)


def _move_into(staging: Path, target: Path) -> None:
    """Merge a staged skeleton into an existing folder (--force): only our entries change."""
    metadata = target / METADATA_DIRECTORY
    if metadata.is_dir():
        shutil.rmtree(metadata)
    (staging / METADATA_DIRECTORY).rename(metadata)
    for entry in staging.iterdir():
        destination = target / entry.name
        if not destination.exists():
            entry.rename(destination)
