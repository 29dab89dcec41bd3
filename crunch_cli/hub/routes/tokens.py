"""Exchanging a one-time setup token for a project token, and (ours) a project's owner
minting a setup token for their own project, to set it up on another machine.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from crunch_cli.hub import tokens, views
from crunch_cli.hub.deps import OwnProjectDep, SessionDep, StoreDep, presented_token
from crunch_cli.hub.errors import HubApiError

router = APIRouter()


class UpgradeRequest(BaseModel):
    clone_token: str = Field(alias="cloneToken", min_length=1)
    # Ours: the competition and project the user named. A token of another project is
    # refused unspent, so that the user can still use it where it belongs.
    competition_name: str | None = Field(default=None, alias="competitionName", max_length=256)
    project_name: str | None = Field(default=None, alias="projectName", max_length=256)


async def previous_token(request: Request) -> str | None:
    """The project token the caller holds now, if it sent one (our `crunch update-token`
    does; the public client sends none). It is often expired, which is why the caller is
    upgrading, and a credential of a kind this hub ignores is no reason to refuse.
    """
    try:
        return await presented_token(request)
    except HubApiError:
        return None


@router.post("/v2/project-tokens/upgrade")
def upgrade(
    body: UpgradeRequest,
    session: SessionDep,
    store: StoreDep,
    previous: Annotated[str | None, Depends(previous_token)],
) -> dict[str, Any]:
    _check_named_project(session, body)
    project = tokens.spend_clone_token(session, body.clone_token)
    if project is None:
        raise HubApiError(
            401,
            "INVALID_PROJECT_TOKEN",
            "the setup token is unknown, already used or expired",
            tokenType="CLONE",
        )
    token, plain = tokens.mint_project_token(session, project, store.settings.project_token_ttl)
    if previous is not None:
        tokens.revoke_project_token(session, previous, project)
    return {
        "id": token.id,
        "type": token.type,
        "plain": plain,
        "validUntil": views.iso(token.valid_until),
        "project": views.project(project),
    }


def _check_named_project(session: Session, body: UpgradeRequest) -> None:
    if body.competition_name is None and body.project_name is None:
        return
    project = tokens.clone_token_project(session, body.clone_token)
    if project is None:
        return  # unknown, spent or expired: refused as such when spending
    named = (body.competition_name or project.competition.name, body.project_name or project.name)
    if named != (project.competition.name, project.name):
        raise HubApiError(
            409,
            "SETUP_TOKEN_MISMATCH",
            f"this setup token is for project {project.name!r} of competition "
            f"{project.competition.name!r}; it was not used",
            competitionName=project.competition.name,
            projectName=project.name,
        )


@router.post("/v3/competitions/{competition}/projects/{user_selector}/{name}/setup-tokens")
def create_setup_token(
    session: SessionDep, store: StoreDep, project: OwnProjectDep
) -> dict[str, Any]:
    token, plain = tokens.mint_clone_token(session, project, store.settings.setup_token_ttl)
    return {
        "id": token.id,
        "plain": plain,
        "validUntil": views.iso(token.expires_at),
        "project": views.project(project),
    }
