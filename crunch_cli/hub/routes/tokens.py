"""Exchanging a one-time setup token for a project token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from crunch_cli.hub import tokens, views
from crunch_cli.hub.deps import SessionDep
from crunch_cli.hub.errors import HubApiError

router = APIRouter()


class UpgradeRequest(BaseModel):
    clone_token: str = Field(alias="cloneToken", min_length=1)


@router.post("/v2/project-tokens/upgrade")
def upgrade(body: UpgradeRequest, session: SessionDep) -> dict[str, Any]:
    project = tokens.spend_clone_token(session, body.clone_token)
    if project is None:
        raise HubApiError(
            401,
            "INVALID_PROJECT_TOKEN",
            "the setup token is unknown, already used or expired",
            tokenType="CLONE",
        )
    token, plain = tokens.mint_project_token(session, project)
    return {
        "id": token.id,
        "type": token.type,
        "plain": plain,
        "validUntil": views.iso(token.valid_until),
        "project": views.project(project),
    }
