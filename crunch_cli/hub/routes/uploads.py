"""The chunked upload API (HUB_API.md, "Uploads") and the signed PUT of chunk bytes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from crunch_cli.hub import uploads
from crunch_cli.hub.blobs import chunk_key
from crunch_cli.hub.deps import (
    BaseUrlDep,
    ProjectDep,
    SessionDep,
    StoreDep,
    StoredInt,
    current_project,
    presented_token,
)
from crunch_cli.hub.models import Project, Upload
from crunch_cli.hub.routes.blobs import check_signature
from crunch_cli.hub.signing import BLOB_PREFIX

router = APIRouter()

MAX_BATCH = 100


class CreateUpload(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    size: int = Field(ge=0)
    encrypted: bool = False
    preferred_chunk_size: int | None = Field(default=None, alias="preferredChunkSize", ge=1)
    media_type: str | None = Field(default=None, alias="mediaType")


class ConfirmChunk(BaseModel):
    hash: str = Field(min_length=1)


class UploadIds(BaseModel):
    upload_ids: Annotated[list[str], Field(alias="uploadIds", max_length=MAX_BATCH)]


def reading_caller(
    store: StoreDep, token: Annotated[str | None, Depends(presented_token)]
) -> Project:
    """The caller's project, found in a read-only transaction that ends at once: a route
    that commits its own transactions must not hold the request's write lock meanwhile.
    """
    with store.session(write=False) as session:
        return current_project(session, token)


ReadingCallerDep = Annotated[Project, Depends(reading_caller)]


@router.post("/v1/uploads")
def create_upload(
    body: CreateUpload, session: SessionDep, store: StoreDep, caller: ProjectDep
) -> dict[str, Any]:
    upload = uploads.create(
        session,
        caller,
        name=body.name,
        size=body.size,
        preferred_chunk_size=body.preferred_chunk_size,
        media_type=body.media_type,
        quota=store.settings.upload_quota,
        ttl=store.settings.upload_ttl,
    )
    return uploads.view(upload)


# The batch routes come before `/{upload_id}` ones only for readability: `~` is no id.
@router.post("/v1/uploads/~/list")
def list_uploads(body: UploadIds, session: SessionDep, caller: ProjectDep) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for upload_id in body.upload_ids:
        upload = session.get(Upload, upload_id)
        mine = upload is not None and upload.project_id == caller.id
        found[upload_id] = uploads.view(upload) if mine and upload is not None else None
    return {"uploads": found}


@router.post("/v1/uploads/~/delete")
def delete_uploads(
    body: UploadIds, session: SessionDep, store: StoreDep, caller: ProjectDep
) -> dict[str, str]:
    results = {}
    for upload_id in body.upload_ids:
        upload = session.get(Upload, upload_id)
        if upload is not None and upload.project_id == caller.id:
            uploads.delete(store, session, upload)
            results[upload_id] = "DELETED"
        else:
            results[upload_id] = "NOT_FOUND"
    return results


@router.get("/v1/uploads/{upload_id}")
def get_upload(upload_id: str, session: SessionDep, caller: ProjectDep) -> dict[str, Any]:
    return uploads.view(uploads.find(session, upload_id, caller))


@router.delete("/v1/uploads/{upload_id}")
def delete_upload(
    upload_id: str, session: SessionDep, store: StoreDep, caller: ProjectDep
) -> dict[str, Any]:
    upload = uploads.find(session, upload_id, caller)
    shown = uploads.view(upload)
    uploads.delete(store, session, upload)
    return shown


@router.get("/v1/uploads/{upload_id}/chunks/{number}/request")
def chunk_request(
    upload_id: str,
    number: StoredInt,
    session: SessionDep,
    store: StoreDep,
    base_url: BaseUrlDep,
    caller: ProjectDep,
) -> dict[str, Any]:
    upload = uploads.find(session, upload_id, caller)
    return dict(uploads.chunk_request(store, upload, number, base_url))


@router.post("/v1/uploads/{upload_id}/chunks/{number}/confirm")
def confirm_chunk(
    upload_id: str,
    number: StoredInt,
    body: ConfirmChunk,
    session: SessionDep,
    store: StoreDep,
    caller: ProjectDep,
) -> dict[str, Any]:
    upload = uploads.find(session, upload_id, caller)
    return uploads.chunk_view(uploads.confirm(store, upload, number, body.hash))


@router.post("/v1/uploads/{upload_id}/complete")
def complete_upload(upload_id: str, store: StoreDep, caller: ReadingCallerDep) -> dict[str, Any]:
    with uploads.insufficient_storage_as_507():
        return uploads.complete(store, upload_id, caller)


@router.post("/v1/uploads/{upload_id}/abort")
def abort_upload(
    upload_id: str, session: SessionDep, store: StoreDep, caller: ProjectDep
) -> dict[str, Any]:
    upload = uploads.find(session, upload_id, caller)
    uploads.abort(store, upload)
    return uploads.view(upload)


@router.put(BLOB_PREFIX + "uploads/{upload_id}/chunks/{number}")
async def put_chunk(
    upload_id: str, number: StoredInt, request: Request, store: StoreDep
) -> Response:
    """The presigned PUT: no token, the URL's signature is the permission."""
    check_signature(store, request, chunk_key(upload_id, number), "PUT")
    with uploads.insufficient_storage_as_507():
        sha256 = await uploads.receive_chunk(store, upload_id, number, request.stream())
    return Response(status_code=200, headers={"ETag": f'"{sha256}"'})
