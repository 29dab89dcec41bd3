"""Setup ("clone") tokens and project tokens.

Both are `secrets.token_urlsafe(32)` (256 bits) and only their sha256 is stored, so the
database alone does not let anyone act as a competitor. A setup token is spent by a single
conditional UPDATE: two concurrent upgrades of one token cannot both succeed.
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


def mint_clone_token(session: Session, project: Project, ttl: timedelta) -> str:
    plain = new_token()
    session.add(
        CloneToken(project_id=project.id, token_sha256=token_hash(plain), expires_at=utcnow() + ttl)
    )
    session.flush()
    return plain


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


def mint_project_token(session: Session, project: Project) -> tuple[ProjectToken, str]:
    plain = new_token()
    token = ProjectToken(project_id=project.id, token_sha256=token_hash(plain))
    session.add(token)
    session.flush()
    return token, plain


def project_for_token(session: Session, plain: str) -> Project | None:
    token = session.scalars(
        select(ProjectToken).where(ProjectToken.token_sha256 == token_hash(plain))
    ).one_or_none()
    if token is None or (token.valid_until is not None and token.valid_until <= utcnow()):
        return None
    return token.project
