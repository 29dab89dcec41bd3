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
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub import leaderboard, organizer, runs, submissions
from crunch_cli.hub.deps import BaseUrlDep, PageRequest, SessionDep
from crunch_cli.hub.errors import HubApiError
from crunch_cli.hub.models import Competition, Project, Submission, User
from crunch_cli.hub.views import limits

router = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
COMPETITION = "/competitions/{name}"
PROJECT = COMPETITION + "/projects/{user}/{project}"
RUNS_SHOWN = 100  # the newest ones; the CLI lists them all (`crunch run list`)


class PageNotFound(Exception):
    """An unknown competition, project or run behind an HTML route: a 404 page."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def not_found_page(request: Request, error: Exception) -> HTMLResponse:
    what = error.what if isinstance(error, PageNotFound) else "page"
    return templates.TemplateResponse(request, "not_found.html", {"what": what}, status_code=404)


@router.get("/site.css")
def stylesheet() -> FileResponse:
    # Every page links it: let browsers keep it for an hour instead of asking on each page.
    return FileResponse(
        HERE / "static" / "site.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    rows = session.scalars(select(Competition).order_by(Competition.name)).all()
    return templates.TemplateResponse(request, "index.html", {"competitions": rows})


@router.get(COMPETITION, response_class=HTMLResponse)
def competition_page(
    request: Request, name: str, session: SessionDep, user: str = "", project: str = ""
) -> HTMLResponse:
    return _competition(
        request, session, _competition_row(session, name), user=user, project=project
    )


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
    user, project = user.strip(), project.strip()
    ttl = request.app.state.store.settings.setup_token_ttl
    try:
        token = organizer.setup_token_for(session, row, user, project, ttl)
    except CrunchError as error:
        return _competition(
            request, session, row, user=user, project=project, error=str(error), status_code=400
        )
    command = f"crunch --api-base-url {base_url} setup {row.name} {project} --token {token}"
    minutes = round(ttl.total_seconds() / 60)
    return _competition(
        request, session, row, user=user, project=project, command=command, minutes=minutes
    )


@router.get(PROJECT, response_class=HTMLResponse)
def project_page(
    request: Request, name: str, user: str, project: str, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    newest = session.scalars(
        select(Submission).where(Submission.project_id == row.id).order_by(Submission.number.desc())
    )
    return templates.TemplateResponse(
        request,
        "project.html",
        {
            "competition": row.competition,
            "project": row,
            "submissions": [
                {**submissions.view(item), "files": submissions.file_views(item)} for item in newest
            ],
            "runs": runs.page_of(session, row, PageRequest(0, RUNS_SHOWN)),
        },
    )


@router.get(PROJECT + "/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, name: str, user: str, project: str, run_id: int, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    try:
        found = runs.find(session, row, run_id)
    except HubApiError:
        raise PageNotFound(f"run {run_id}") from None
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "competition": row.competition,
            "project": row,
            "run": runs.view(found),
            # A run still going reloads itself, so its logs grow without a script.
            "live": found.status != runs.COMPLETED,
            "logs": runs.logs(session, found, None),
        },
    )


def _competition(
    request: Request, session: Session, row: Competition, status_code: int = 200, **form: Any
) -> HTMLResponse:
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
        status_code=status_code,
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
