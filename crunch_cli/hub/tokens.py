"""Setup ("clone") tokens and project tokens.

Both are `secrets.token_urlsafe(32)` (256 bits) and only their sha256 is stored, so the
database alone does not let anyone act as a competitor. A setup token is spent by a single
conditional UPDATE: two concurrent upgrades of one token cannot both succeed.

A project token opens one project and nothing else; it stops working when it expires or
when the token that replaced it (`crunch update-token`) revoked it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crunch_cli.hub.models import CloneToken, Project, ProjectToken, utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def mint_clone_token(session: Session, project: Project, ttl: timedelta) -> tuple[CloneToken, str]:
    plain = new_token()
    token = CloneToken(
        project_id=project.id, token_sha256=token_hash(plain), expires_at=utcnow() + ttl
    )
    session.add(token)
    session.flush()
    return token, plain


def spend_clone_token(session: Session, plain: str) -> Project | None:
    """Mark the token used and return its project; None if unknown, spent or expired."""
    now = utcnow()
    spent = session.execute(
        update(CloneToken)
        .where(
            CloneToken.token_sha256 == token_hash(plain),
            CloneToken.used_at.is_(None),
            CloneToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(CloneToken.project_id)
    ).scalar_one_or_none()
    return None if spent is None else session.get(Project, spent)


def clone_token_project(session: Session, plain: str) -> Project | None:
    """The project a usable setup token is for, without spending it: a client checks that
    it is the project the user named before the token is gone.
    """
    token = session.scalars(
        select(CloneToken).where(
            CloneToken.token_sha256 == token_hash(plain),
            CloneToken.used_at.is_(None),
            CloneToken.expires_at > utcnow(),
        )
    ).one_or_none()
    return None if token is None else session.get(Project, token.project_id)


def mint_project_token(
    session: Session, project: Project, ttl: timedelta | None
) -> tuple[ProjectToken, str]:
    """`ttl` None: the token never expires."""
    plain = new_token()
    token = ProjectToken(
        project_id=project.id,
        token_sha256=token_hash(plain),
        valid_until=None if ttl is None else utcnow() + ttl,
    )
    session.add(token)
    session.flush()
    return token, plain


def project_for_token(session: Session, plain: str) -> Project | None:
    """The project a valid token opens; None if unknown, expired or revoked."""
    token = _find(session, plain)
    if token is None or token.revoked_at is not None:
        return None
    if token.valid_until is not None and token.valid_until <= utcnow():
        return None
    return token.project


def revoke_project_token(session: Session, plain: str, project: Project) -> None:
    """Revoke `plain` if it is a token of `project`, expired or not.

    A token of another project is left alone: whoever holds a setup token may retire
    their own project's previous token, never someone else's.
    """
    token = _find(session, plain)
    if token is not None and token.project_id == project.id and token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def _find(session: Session, plain: str) -> ProjectToken | None:
    return session.scalars(
        select(ProjectToken).where(ProjectToken.token_sha256 == token_hash(plain))
    ).one_or_none()
