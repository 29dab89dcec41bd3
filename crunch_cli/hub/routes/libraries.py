"""The library whitelist, searched the way the public client searches it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crunch_cli.hub import views, whitelist
from crunch_cli.hub.deps import PageDep

router = APIRouter()


@router.get("/v2/libraries")
def list_libraries(
    request: Request,
    paging: PageDep,
    name: Annotated[str | None, Query(max_length=whitelist.MAX_QUERY_LENGTH)] = None,
    language: str | None = None,
    standard: bool | None = None,
    gpu_requirement: Annotated[str | None, Query(alias="gpuRequirement")] = None,
) -> dict[str, Any]:
    found = whitelist.search(
        request.app.state.libraries,
        name=name,
        language=language,
        standard=standard,
        gpu_requirement=gpu_requirement,
    )
    start = paging.page * paging.size
    content = [library.to_json() for library in found[start : start + paging.size]]
    return views.page(content, paging.page, paging.size, len(found))
