"""Find the rows a path names, or raise the wire error the public client expects.

A competition path segment is the numeric id or the name (the public client uses both);
rounds accept a number, `@current` or `@last`; phases a type or `@current`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crunch_cli.hub.errors import HubApiError, not_found
from crunch_cli.hub.models import Competition, Phase, Project, Round, User, utcnow

MAX_ID = 2**63  # ids and numbers are signed 64-bit integers in the database
_MAX_ID_DIGITS = len(str(MAX_ID))


def segment_number(segment: str) -> int | None:
    """The path segment as an id or number the database can hold, else None.

    `str.isdigit()` alone also takes "²" (which `int()` refuses) and numbers too large to
    be compared with a stored integer.
    """
    if not (segment.isascii() and segment.isdigit()) or len(segment) > _MAX_ID_DIGITS:
        return None
    value = int(segment)
    return value if value < MAX_ID else None


def competition(session: Session, id_or_name: str) -> Competition:
    found = None
    if (competition_id := segment_number(id_or_name)) is not None:
        found = session.get(Competition, competition_id)
    if found is None:
        found = session.scalars(
            select(Competition).where(Competition.name == id_or_name)
        ).one_or_none()
    if found is None:
        raise not_found(
            "COMPETITION_NAME_NOT_FOUND",
            f"no competition named {id_or_name!r} on this hub",
            competitionName=id_or_name,
        )
    return found


def round_(row: Competition, selector: str) -> Round:
    rounds = row.rounds
    if selector == "@last":
        if rounds:
            return rounds[-1]
    elif selector == "@current":
        now = utcnow()
        for candidate in rounds:
            if candidate.start <= now < candidate.end:
                return candidate
        raise not_found(
            "CURRENT_ROUND_NOT_FOUND",
            f"competition {row.name!r} has no round open now",
            roundNumber=selector,
        )
    elif (round_number := segment_number(selector)) is not None:
        for candidate in rounds:
            if candidate.number == round_number:
                return candidate
    raise not_found(
        "ROUND_NOT_FOUND", f"competition {row.name!r} has no round {selector}", roundNumber=selector
    )


def phase(row: Round, selector: str) -> Phase:
    now = utcnow()
    for candidate in row.phases:
        if selector == "@current":
            if candidate.start <= now < candidate.end:
                return candidate
        elif candidate.type == selector.upper():
            return candidate
    raise not_found("PHASE_NOT_FOUND", f"round {row.number} has no phase {selector}")


def user(session: Session, selector: str, me: User) -> User:
    if selector == "@me":
        return me
    user_id = segment_number(selector)
    found = None if user_id is None else session.get(User, user_id)
    if found is None:
        raise not_found("USER_NOT_FOUND", f"no user {selector}")
    return found


def own_project(
    session: Session, competition_row: Competition, user_selector: str, name: str, caller: Project
) -> Project:
    """The named project, which must be the caller's own: a project token opens its one
    project, not the user's other projects, nor anything in another competition.

    Another user's project is refused before it is looked up, so a token does not learn
    which projects others have; the caller's user may learn which of its own names exist.
    """
    if user_selector not in ("@me", str(caller.user_id)):
        raise _not_yours("a project token only opens its own user's projects")
    if competition_row.id == caller.competition_id and name == caller.name:
        return caller
    found = project_named(session, competition_row, caller.user_id, name)
    if found is None:
        raise not_found(
            "PROJECT_NOT_FOUND",
            f"no project {name!r} in competition {competition_row.name!r}",
            competitionId=competition_row.id,
            userId=caller.user_id,
        )
    raise _not_yours(
        f"this project token opens project {caller.name!r} of competition "
        f"{caller.competition.name!r} only"
    )


def _not_yours(message: str) -> HubApiError:
    return HubApiError(403, "ACCESS_DENIED", message)


def project_named(session: Session, row: Competition, user_id: int, name: str) -> Project | None:
    return session.scalars(
        select(Project).where(
            Project.competition_id == row.id, Project.user_id == user_id, Project.name == name
        )
    ).one_or_none()
