"""Send a bundle to the hub and create the submission, all or nothing.

The whitelist and the competition's limits are checked before any byte leaves the
machine; the submission is created only once every upload has succeeded; when anything
fails, the uploads this push made are discarded, so the hub is left as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crunch_cli.api import ProjectClient
from crunch_cli.api.client import hint_for
from crunch_cli.errors import CrunchError, NotFoundError, PushError
from crunch_cli.push.bundle import Bundle
from crunch_cli.push.upload import (
    CHUNK_SIZE,
    UploadCache,
    UploadProgress,
    discard_uploads,
    upload_blobs,
)
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.requirements import Requirement
    from crunch_cli.requirements.whitelist import LibraryIndex

MAX_MESSAGE_LENGTH = 1000


def check_message(message: str) -> str:
    if len(message) > MAX_MESSAGE_LENGTH:
        raise PushError(
            f"the message is {len(message):,} characters long; the limit is {MAX_MESSAGE_LENGTH:,}",
            hint="shorten the -m/--message text",
        )
    return message


def forbidden_libraries(client: LibraryIndex, requirements: list[Requirement]) -> list[str]:
    """Third-party requirements the hub's whitelist does not list (`client`: a hub's, or a
    project's)."""
    from crunch_cli.requirements import Whitelist

    whitelist = Whitelist(client)
    return sorted(
        {
            requirement.name
            for requirement in requirements
            if not requirement.standard and whitelist.by_name(requirement.name) is None
        }
    )


def check_quota(client: ProjectClient, bundle: Bundle) -> None:
    """Refuse what the hub would refuse, before uploading a gigabyte for nothing."""
    try:
        quota = client.submit_quota()
    except NotFoundError:
        return  # a hub without the quota endpoint: it still enforces its limits itself
    for kind, key, code in (
        ("code", "codeFiles", "SUBMISSION_TOO_BIG"),
        ("model", "modelFiles", "MODEL_TOO_BIG"),
    ):
        limit = (quota.get(key) or {}).get("totalSize")
        if limit is not None and bundle.size(kind) > limit:
            raise PushError(
                f"your {kind} files weigh {bundle.size(kind):,} bytes; "
                f"this competition allows {limit:,}",
                hint=hint_for(code),
            )
    daily = quota.get("submissionsPerDay") or {}
    maximum = daily.get("maximum")
    if maximum is not None and not daily.get("bypass") and daily.get("current", 0) >= maximum:
        raise PushError(
            f"you have used today's {maximum} submissions",
            hint=hint_for("DAILY_SUBMISSION_LIMIT_EXCEEDED"),
        )


def submit(
    project: ProjectClient,
    workspace: Workspace,
    bundle: Bundle,
    cache: UploadCache,
    *,
    message: str = "",
    progress: UploadProgress | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> tuple[dict[str, Any], int]:
    """Upload what the hub lacks and create the submission; returns it and the bytes sent.

    `project` is the workspace's client (`WorkspaceSettings.client()`).
    """
    check_message(message)
    forbidden = forbidden_libraries(project, bundle.requirements)
    if forbidden:
        raise PushError(
            "not allowed on this competition: " + ", ".join(sorted(forbidden)),
            hint="remove them from requirements.txt and your imports "
            "(`crunch whitelist search NAME` lists what is allowed)",
        )
    check_quota(project, bundle)
    blobs = (file.blob for file in bundle.files)
    report = upload_blobs(project, blobs, cache, progress=progress, chunk_size=chunk_size)
    files: dict[str, dict[str, str]] = {"code": {}, "model": {}}
    for file in bundle.files:
        files[file.kind][file.path] = report.upload_ids[file.blob.sha256]
    body: dict[str, Any] = {
        "message": message,
        "mainFilePath": bundle.main_file_path,
        "modelDirectoryPath": bundle.model_directory,
        "type": bundle.type,
        "codeFiles": files["code"],
        "modelFiles": files["model"],
        "submitterImprint": "human/cli",
    }
    if bundle.allowed_secrets:  # absent otherwise: the body stays the public API's
        body["allowedSecretFiles"] = bundle.allowed_secrets
    try:
        submission = project.create_submission(body)
    except CrunchError:
        discard_uploads(project, cache, report.started)
        raise
    return submission, report.sent_bytes
