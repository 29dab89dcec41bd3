"""A project's submissions: create (push), list, show, files, clone, and the quota."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from crunch_cli.hub import submissions, uploads
from crunch_cli.hub.deps import BaseUrlDep, OwnProjectDep, SessionDep, StoreDep, StoredInt
from crunch_cli.hub.models import Submission

router = APIRouter()

PROJECT = "/competitions/{competition}/projects/{user_selector}/{name}"


@router.post("/v4" + PROJECT + "/submissions")
def create_submission(
    body: submissions.NewSubmission,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    project: OwnProjectDep,
) -> dict[str, Any]:
    with uploads.insufficient_storage_as_507():
        created = submissions.create(
            store, session, project.competition, project, body, request.app.state.libraries
        )
        session.commit()  # here rather than after the route: a full disk must answer 507
    return submissions.view(created)


@router.get("/v3" + PROJECT + "/submissions")
def list_submissions(session: SessionDep, project: OwnProjectDep) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Submission).where(Submission.project_id == project.id).order_by(Submission.number)
    )
    return [submissions.view(item) for item in rows]


@router.get("/v3" + PROJECT + "/submissions/{selector}")
def get_submission(
    selector: str,
    session: SessionDep,
    project: OwnProjectDep,
) -> dict[str, Any]:
    return submissions.view(submissions.find(session, project, selector))


@router.get("/v3" + PROJECT + "/submissions/{selector}/files")
def submission_files(
    selector: str,
    session: SessionDep,
    project: OwnProjectDep,
) -> list[dict[str, Any]]:
    return submissions.file_views(submissions.find(session, project, selector))


@router.get("/v4" + PROJECT + "/clone")
def clone(
    session: SessionDep,
    store: StoreDep,
    base_url: BaseUrlDep,
    project: OwnProjectDep,
    submission_number: Annotated[StoredInt | None, Query(alias="submissionNumber")] = None,
    include_model: Annotated[bool, Query(alias="includeModel")] = True,
) -> dict[str, str]:
    """Signed links to a submission's files, keyed by their path in a workspace."""
    selector = "@last" if submission_number is None else str(submission_number)
    found = submissions.find(session, project, selector)
    ttl = store.settings.signed_url_ttl
    return {
        submissions.workspace_path(found, item): store.blobs.download_url(
            item.blob_key, base_url=base_url, ttl=ttl
        )
        for item in found.files
        if include_model or item.kind == submissions.CODE
    }


@router.get("/v3" + PROJECT + "/quota/submit")
def submit_quota(session: SessionDep, project: OwnProjectDep) -> dict[str, Any]:
    return submissions.quota(session, project.competition, project)
