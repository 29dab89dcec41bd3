"""Submissions: the files of a push, checked against the competition's rules.

The checks run before anything is recorded, in the order a competitor would want to hear
about them: the shape of the request (file names that look like secrets included), the
uploads, the sizes, the daily quota, then the requirements against the whitelist. A
submission's files are the immutable content blobs its uploads were adopted as, so the
requirements checked are the bytes later run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timezone
from pathlib import PurePosixPath
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crunch_cli.errors import BlobIntegrityError
from crunch_cli.hub import uploads
from crunch_cli.hub.blobs import content_key
from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.lookups import segment_number
from crunch_cli.hub.models import (
    Competition,
    Project,
    Submission,
    SubmissionFile,
    Upload,
    User,
    utcnow,
)
from crunch_cli.hub.store import HubStore
from crunch_cli.hub.views import iso
from crunch_cli.hub.whitelist import PYTHON, Library
from crunch_cli.secret_names import secret_name_rule

REQUIREMENTS_FILE = "requirements.txt"
MAX_REQUIREMENTS_SIZE = 1024 * 1024
MAX_MESSAGE_LENGTH = 1000
CODE, MODEL = "CODE", "MODEL"


class NewSubmission(BaseModel):
    """The body of `POST .../submissions`; paths map to upload ids."""

    model_config = ConfigDict(populate_by_name=True)

    message: str = Field(default="", max_length=MAX_MESSAGE_LENGTH)
    main_file_path: str = Field(default="main.py", alias="mainFilePath")
    model_directory_path: str = Field(default="resources", alias="modelDirectoryPath")
    type: Literal["CODE", "NOTEBOOK"] = "CODE"
    code_files: dict[str, str] = Field(alias="codeFiles")
    model_files: dict[str, str] = Field(default_factory=dict, alias="modelFiles")
    submitter_imprint: str | None = Field(default=None, alias="submitterImprint")
    # Ours: workspace paths named like secrets that the user chose to send (--allow-secret).
    allowed_secret_files: list[str] = Field(default_factory=list, alias="allowedSecretFiles")


def view(row: Submission) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "type": row.type,
        "message": row.message,
        "mainFilePath": row.main_file_path,
        "modelDirectoryPath": row.model_directory_path,
        "totalSize": row.total_size,
        "createdAt": iso(row.created_at),
        "model": None,
    }


def workspace_path(row: Submission, item: SubmissionFile) -> str:
    """Where the file goes in a workspace: model files live under the model directory."""
    if item.kind == MODEL:
        return f"{row.model_directory_path}/{item.path}"
    return item.path


def file_views(row: Submission) -> list[dict[str, Any]]:
    return [
        {
            "name": workspace_path(row, item),
            "size": item.size,
            "mimeType": item.media_type,
            # ours
            "kind": item.kind,
            "sha256": item.sha256,
        }
        for item in row.files
    ]


def find(session: Session, project: Project, selector: str) -> Submission:
    query = select(Submission).where(Submission.project_id == project.id)
    if selector == "@last":
        found = session.scalars(query.order_by(Submission.number.desc()).limit(1)).first()
        if found is None:
            raise never_submitted(project)
        return found
    found = None
    if (submission_number := segment_number(selector)) is not None:
        found = session.scalars(query.where(Submission.number == submission_number)).first()
    if found is None:
        raise not_found(
            "SUBMISSION_NOT_FOUND",
            f"project {project.name!r} has no submission {selector}",
            submissionNumber=selector,
        )
    return found


def never_submitted(project: Project) -> HubApiError:
    return not_found("NEVER_SUBMITTED", f"project {project.name!r} has no submission yet")


def submissions_today(session: Session, competition: Competition, project: Project) -> int:
    """Today's (UTC) submissions of this user in this competition, whatever the project."""
    midnight = datetime.combine(utcnow().date(), time(), tzinfo=timezone.utc)
    return (
        session.scalar(
            select(func.count(Submission.id))
            .join(Project)
            .where(
                Project.competition_id == competition.id,
                Project.user_id == project.user_id,
                Submission.created_at >= midnight,
            )
        )
        or 0
    )


def create(
    store: HubStore,
    session: Session,
    competition: Competition,
    project: Project,
    body: NewSubmission,
    libraries: Iterable[Library],
) -> Submission:
    # Counting today's submissions and numbering this one must see every other push of
    # this user: lock their row (SQLite's BEGIN IMMEDIATE already serialises writers; other
    # databases need the lock). The user's, not the project's: the daily limit spans all
    # of their projects in the competition.
    session.execute(select(User.id).where(User.id == project.user_id).with_for_update())
    main_file = _clean_path(body.main_file_path, "mainFilePath")
    model_directory = _clean_path(body.model_directory_path, "modelDirectoryPath")
    code_files = {
        _clean_path(path, "codeFiles"): upload for path, upload in body.code_files.items()
    }
    model_files = {
        _clean_path(path, "modelFiles"): upload for path, upload in body.model_files.items()
    }
    if main_file not in code_files:
        raise HubApiError(
            400,
            "MISSING_MAIN_FILE",
            f"the submission has no {main_file} among its code files",
            mainFilePath=main_file,
        )
    for path in code_files:
        if PurePosixPath(path).is_relative_to(model_directory):
            raise HubApiError(
                400,
                "CONFLICTING_MODEL_DIRECTORY",
                f"code file {path} is inside the model directory {model_directory}",
                modelDirectoryPath=model_directory,
                conflictingFilePath=path,
            )
    _refuse_secret_names(
        [*code_files, *(f"{model_directory}/{path}" for path in model_files)],
        body.allowed_secret_files,
    )
    code = {
        path: _ready_upload(store, session, project, upload) for path, upload in code_files.items()
    }
    model = {
        path: _ready_upload(store, session, project, upload) for path, upload in model_files.items()
    }
    code_size = sum(upload.size for upload in code.values())
    model_size = sum(upload.size for upload in model.values())
    if code_size > competition.max_code_size:
        raise HubApiError(
            400,
            "SUBMISSION_TOO_BIG",
            f"the code files weigh {code_size} bytes, over the limit of "
            f"{competition.max_code_size}",
            size=code_size,
            maximumSize=competition.max_code_size,
        )
    if model_size > competition.max_model_size:
        raise HubApiError(
            400,
            "MODEL_TOO_BIG",
            f"the model files weigh {model_size} bytes, over the limit of "
            f"{competition.max_model_size}",
            size=model_size,
            maximumSize=competition.max_model_size,
        )
    if submissions_today(session, competition, project) >= competition.submissions_per_day:
        raise HubApiError(
            429,
            "DAILY_SUBMISSION_LIMIT_EXCEEDED",
            f"you reached today's limit of {competition.submissions_per_day} submissions",
            limit=competition.submissions_per_day,
        )
    if REQUIREMENTS_FILE in code:
        _check_requirements(store, code[REQUIREMENTS_FILE], libraries)
    now = utcnow()
    for upload in (*code.values(), *model.values()):
        upload.used_at = upload.used_at or now

    number = (
        session.scalar(
            select(func.max(Submission.number)).where(Submission.project_id == project.id)
        )
        or 0
    ) + 1
    row = Submission(
        project_id=project.id,
        number=number,
        type=body.type,
        message=body.message,
        main_file_path=main_file,
        model_directory_path=model_directory,
        total_size=code_size + model_size,
        submitter_imprint=body.submitter_imprint,
        files=[
            _stored_file(kind, path, upload)
            for kind, files in ((CODE, code), (MODEL, model))
            for path, upload in sorted(files.items())
        ],
    )
    session.add(row)
    session.flush()
    return row


def _stored_file(kind: str, path: str, upload: Upload) -> SubmissionFile:
    assert upload.sha256 is not None
    return SubmissionFile(
        kind=kind,
        path=path,
        blob_key=content_key(upload.sha256),
        size=upload.size,
        sha256=upload.sha256,
        media_type=upload.media_type,
    )


def _clean_path(value: str, field: str) -> str:
    """A relative POSIX path that stays inside the workspace, normalised."""
    path = PurePosixPath(value)
    if (
        not value
        or "\\" in value
        or path.is_absolute()
        or any(part in ("..", "") for part in value.split("/"))
    ):
        raise HubApiError(
            400,
            "VALIDATION_FAILED",
            f"{field}: {value!r} is not a relative path inside the workspace",
            fieldErrors=[{"field": field, "message": f"invalid path {value!r}"}],
        )
    return str(path)


def _refuse_secret_names(paths: list[str], allowed: list[str]) -> None:
    """The same deny list as `crunch push`, for clients that send such files unchecked."""
    refused = [path for path in paths if path not in allowed and secret_name_rule(path)]
    if refused:
        raise HubApiError(
            400,
            "SECRET_FILE",
            "files named like secrets (keys, credentials, .env) are not accepted: "
            + ", ".join(refused),
            filePaths=refused,
        )


def _ready_upload(store: HubStore, session: Session, project: Project, upload_id: str) -> Upload:
    upload = uploads.find(session, upload_id, project)
    current = uploads.status(upload)
    if current != "SUCCEEDED":
        raise HubApiError(
            400,
            "UPLOAD_NOT_COMPLETED",
            f"upload {upload_id} ({upload.name}) is {current}, not SUCCEEDED",
            uploadId=upload_id,
            status=current,
        )
    assert upload.sha256 is not None
    if not store.blobs.exists(content_key(upload.sha256)):
        raise _content_missing(upload, "its bytes are no longer on the hub")
    return upload


def _content_missing(upload: Upload, reason: str) -> HubApiError:
    return HubApiError(
        409,
        "UPLOAD_CONTENT_MISSING",
        f"upload {upload.id} ({upload.name}) cannot be used: {reason}; upload the file again",
        uploadId=upload.id,
    )


def _check_requirements(store: HubStore, upload: Upload, libraries: Iterable[Library]) -> None:
    if upload.size > MAX_REQUIREMENTS_SIZE:
        raise HubApiError(
            400, "REQUIREMENT_PARSE", f"{REQUIREMENTS_FILE} is too large to be a requirements file"
        )
    assert upload.sha256 is not None
    try:
        content = store.blobs.read_verified(
            content_key(upload.sha256), upload.sha256, MAX_REQUIREMENTS_SIZE
        )
    except BlobIntegrityError as error:
        raise _content_missing(upload, error.message) from error
    text = content.decode("utf-8", "replace")
    names = parse_requirement_names(text)
    allowed = {
        canonicalize_name(name)
        for library in libraries
        if library.language == PYTHON
        for name in library.names()
    }
    forbidden = [name for name in names if canonicalize_name(name) not in allowed]
    if forbidden:
        raise HubApiError(
            400,
            "FORBIDDEN_LIBRARY",
            f"not on this competition's whitelist: {', '.join(forbidden)}",
            requirements=[{"name": name, "language": PYTHON} for name in forbidden],
        )


def parse_requirement_names(text: str) -> list[str]:
    """Project names of a requirements file; pip options and bad lines are refused."""
    names = []
    for number, raw in enumerate(text.replace("\\\n", "").splitlines(), 1):
        line = raw if raw.lstrip().startswith("#") else raw.split(" #")[0]
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        reason = None
        if line.startswith("-"):
            reason = "pip options are not allowed in a submission"
        else:
            try:
                names.append(Requirement(line).name)
            except InvalidRequirement as error:
                reason = str(error).splitlines()[0]
        if reason:
            raise HubApiError(
                400,
                "REQUIREMENT_PARSE",
                f"{REQUIREMENTS_FILE} line {number}: {line!r}: {reason}",
                line=line,
                lineNumber=number,
            )
    return names


def quota(session: Session, competition: Competition, project: Project) -> dict[str, Any]:
    return {
        "codeFiles": {"totalSize": competition.max_code_size},
        "modelFiles": {"totalSize": competition.max_model_size},
        "notebookFile": {"totalSize": competition.max_code_size},
        "predictionFile": {"totalSize": 0},
        "submissionsPerDay": {
            "current": submissions_today(session, competition, project),
            "maximum": competition.submissions_per_day,
            "bypass": False,
        },
    }
