"""The hub's small read-only website: competitions, the "Submit via CLI" box, leaderboards,
a project's submissions and runs with their logs.

Server-rendered with Jinja2 (autoescaped: every user-provided text is escaped), no build
step, no JavaScript but a copy button. On a local hub there are no accounts: the user name
typed in the setup box is who the token is for. Minting is a POST, since it has an effect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub import leaderboard, organizer, runs
from crunch_cli.hub.deps import BaseUrlDep, SessionDep
from crunch_cli.hub.models import Competition, Project, Run, Submission, User
from crunch_cli.hub.views import limits

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
COMPETITION = "/competitions/{name}"
PROJECT = COMPETITION + "/projects/{user}/{project}"


class PageNotFound(Exception):
    """An unknown competition, project or run behind an HTML route: a 404 page."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def not_found_page(request: Request, error: Exception) -> HTMLResponse:
    what = error.what if isinstance(error, PageNotFound) else "page"
    return templates.TemplateResponse(request, "not_found.html", {"what": what}, status_code=404)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    rows = session.scalars(select(Competition).order_by(Competition.name)).all()
    return templates.TemplateResponse(request, "index.html", {"competitions": rows})


@router.get(COMPETITION, response_class=HTMLResponse)
def competition_page(
    request: Request, name: str, session: SessionDep, user: str = "", project: str = ""
) -> HTMLResponse:
    return _competition(request, session, name, user=user, project=project)


@router.post(COMPETITION + "/setup-command", response_class=HTMLResponse)
def setup_command(
    request: Request,
    name: str,
    session: SessionDep,
    base_url: BaseUrlDep,
    user: Annotated[str, Form()],
    project: Annotated[str, Form()],
) -> HTMLResponse:
    row = _competition_row(session, name)
    try:
        token = organizer.setup_token_for(
            session,
            row,
            user.strip(),
            project.strip(),
            request.app.state.store.settings.setup_token_ttl,
        )
    except CrunchError as error:
        return _competition(request, session, name, user=user, project=project, error=str(error))
    command = f"crunch --api-base-url {base_url} setup {row.name} {project.strip()} --token {token}"
    return _competition(request, session, name, user=user, project=project, command=command)


@router.get(PROJECT, response_class=HTMLResponse)
def project_page(
    request: Request, name: str, user: str, project: str, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    submissions = session.scalars(
        select(Submission).where(Submission.project_id == row.id).order_by(Submission.number.desc())
    ).all()
    project_runs = session.scalars(
        select(Run).where(Run.project_id == row.id).order_by(Run.id.desc())
    ).all()
    return templates.TemplateResponse(
        request,
        "project.html",
        {
            "competition": row.competition,
            "project": row,
            "submissions": submissions,
            "runs": [runs.view(run) for run in project_runs],
        },
    )


@router.get(PROJECT + "/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, name: str, user: str, project: str, run_id: int, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    found = session.scalars(
        select(Run).where(Run.id == run_id, Run.project_id == row.id)
    ).one_or_none()
    if found is None:
        raise PageNotFound(f"run {run_id}")
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "competition": row.competition,
            "project": row,
            "run": runs.view(found),
            "logs": runs.logs(session, found, None),
        },
    )


def _competition(request: Request, session: Session, name: str, **form: Any) -> HTMLResponse:
    row = _competition_row(session, name)
    projects = session.scalars(
        select(Project).where(Project.competition_id == row.id).order_by(Project.name)
    ).all()
    return templates.TemplateResponse(
        request,
        "competition.html",
        {
            "competition": row,
            "limits": limits(row),
            "leaderboard": leaderboard.view(session, row),
            "projects": projects,
            **form,
        },
    )


def _competition_row(session: Session, name: str) -> Competition:
    row = session.scalars(select(Competition).where(Competition.name == name)).one_or_none()
    if row is None:
        raise PageNotFound(f"competition {name!r}")
    return row


def _project_row(session: Session, name: str, user: str, project: str) -> Project:
    competition = _competition_row(session, name)
    row = session.scalars(
        select(Project)
        .join(User, Project.user_id == User.id)
        .where(
            Project.competition_id == competition.id,
            User.login == user,
            Project.name == project,
        )
    ).one_or_none()
    if row is None:
        raise PageNotFound(f"project {user}/{project}")
    return row
