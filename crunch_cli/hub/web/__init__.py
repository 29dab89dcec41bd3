"""The hub's small read-only website: competitions, the "Submit via CLI" box, leaderboards,
a project's submissions and runs with their logs.

Server-rendered with Jinja2 (autoescaped: every user-provided text is escaped), no build
step, no JavaScript but a copy button; charts are inline SVG drawn here (`charts`). There
are no accounts, so the setup box is anonymous: it only creates projects (a new user, or a
new project name of a user), each client address a few per hour, and never hands out a
token for a project that exists, which would give that project away; those come from the
organizer or the project's owner. Minting is a POST, since it has an effect, and every POST
passes the `forms` checks.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crunch_cli.errors import CrunchError
from crunch_cli.hub import leaderboard, organizer, runs, submissions
from crunch_cli.hub.deps import BaseUrlDep, PageRequest, SessionDep, StoredInt
from crunch_cli.hub.errors import HubApiError
from crunch_cli.hub.models import Competition, Project, Run, Submission, User
from crunch_cli.hub.settings import HubSettings
from crunch_cli.hub.views import limits
from crunch_cli.hub.web import charts, forms
from crunch_cli.hub.web.ratelimit import RateLimited, RateLimiter
from crunch_cli.protocol.humanize import format_size, format_timespan
from crunch_cli.runner.spec import format_label
from crunch_cli.setup_line import setup_line

router = APIRouter(include_in_schema=False, dependencies=[Depends(forms.check_form)])
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["size"] = lambda value: format_size(int(value), binary=True)
templates.env.filters["timespan"] = lambda value: format_timespan(float(value))
templates.env.filters["format_label"] = format_label
templates.env.filters["when"] = lambda value: value[:16].replace("T", " ") if value else ""
COMPETITION = "/competitions/{name}"
PROJECT = COMPETITION + "/projects/{user}/{project}"
RUNS_SHOWN = 100  # the newest ones; the CLI lists them all (`crunch run list`)
NEW_PROJECTS_WINDOW = timedelta(hours=1)


def install(app: FastAPI, settings: HubSettings) -> None:
    """Add the website to the hub's app: its routes, its error pages, its rate limit."""
    app.state.web_new_projects = RateLimiter(settings.web_projects_per_hour, NEW_PROJECTS_WINDOW)
    app.include_router(router)
    app.add_exception_handler(PageNotFound, not_found_page)
    app.add_exception_handler(forms.FormRefused, refused_page)


class PageNotFound(Exception):
    """An unknown competition, project or run behind an HTML route: a 404 page."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def not_found_page(request: Request, error: Exception) -> HTMLResponse:
    what = error.what if isinstance(error, PageNotFound) else "page"
    return templates.TemplateResponse(request, "not_found.html", {"what": what}, status_code=404)


def refused_page(request: Request, error: Exception) -> HTMLResponse:
    reason = error.reason if isinstance(error, forms.FormRefused) else "refused"
    # The form's own page, to fill it in again: forms post to a sub-path of it.
    back = request.url.path.rsplit("/", 1)[0] or "/"
    return templates.TemplateResponse(
        request, "refused.html", {"reason": reason, "back": back}, status_code=403
    )


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
    return templates.TemplateResponse(
        request, "index.html", {"competitions": [_summary(session, row) for row in rows]}
    )


def _summary(session: Session, row: Competition) -> dict[str, Any]:
    """What the home page says of a competition: who takes part, how much runs, the best."""
    projects = select(Project.id).where(Project.competition_id == row.id)
    board = leaderboard.view(session, row)
    return {
        "row": row,
        "participants": session.scalar(
            select(func.count(func.distinct(Project.user_id))).where(
                Project.competition_id == row.id
            )
        ),
        "runs": session.scalar(select(func.count(Run.id)).where(Run.project_id.in_(projects))),
        "best": board["entries"][0]["score"] if board["entries"] else None,
        "higherIsBetter": board["higherIsBetter"],
    }


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
    new_projects: RateLimiter = request.app.state.web_new_projects
    address = request.client.host if request.client else ""
    form: dict[str, Any] = {"user": user, "project": project}
    try:
        token = organizer.setup_token_for(
            session, row, user, project, ttl, admit_new=lambda: new_projects.take(address)
        )
    except organizer.ProjectExistsError:
        return _competition(request, session, row, taken=True, status_code=409, **form)
    except RateLimited as limited:
        minutes = max(1, round(limited.retry_after / 60))
        response = _competition(
            request,
            session,
            row,
            error=f"This address has created {new_projects.limit} projects in the last hour, "
            f"as many as this hub allows: try again in {minutes} minutes.",
            status_code=429,
            **form,
        )
        response.headers["Retry-After"] = str(limited.retry_after)
        return response
    except CrunchError as error:
        return _competition(request, session, row, error=str(error), status_code=400, **form)
    command = setup_line(base_url, row.name, project, token)
    minutes = round(ttl.total_seconds() / 60)
    return _competition(request, session, row, command=command, minutes=minutes, **form)


@router.get(PROJECT, response_class=HTMLResponse)
def project_page(
    request: Request, name: str, user: str, project: str, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    newest = session.scalars(
        select(Submission).where(Submission.project_id == row.id).order_by(Submission.number.desc())
    )
    page = runs.page_of(session, row, PageRequest(0, RUNS_SHOWN))
    scored = [run for run in reversed(page["content"]) if run["score"] is not None]
    return templates.TemplateResponse(
        request,
        "project.html",
        {
            "competition": row.competition,
            "project": row,
            "submissions": [
                {**submissions.view(item), "files": submissions.file_views(item)} for item in newest
            ],
            "runs": page,
            "chart": charts.line(
                f"{row.competition.metric} of each scored run, oldest first",
                [(f"run {run['id']}", run["score"]) for run in scored],
            ),
        },
    )


@router.get(PROJECT + "/runs/{run_id}", response_class=HTMLResponse)
def run_page(
    request: Request, name: str, user: str, project: str, run_id: StoredInt, session: SessionDep
) -> HTMLResponse:
    row = _project_row(session, name, user, project)
    try:
        found = runs.find(session, row, run_id)
    except HubApiError:
        raise PageNotFound(f"run {run_id}") from None
    shown = runs.view(found)
    first = shown["metrics"][0] if shown["metrics"] else None
    chart = None
    if first is not None and first["details"]:
        chart = charts.bars(
            f"{first['name']} per {row.competition.moon_column or 'part'}",
            [
                (str(detail["key"]), float(detail["value"]))
                for detail in first["details"]
                if isinstance(detail.get("value"), int | float)
            ],
        )
    return templates.TemplateResponse(
        request,
        "run.html",
        {
            "competition": row.competition,
            "project": row,
            "run": shown,
            "chart": chart,
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
    csrf_token, cookie = forms.form_token(request)
    board = leaderboard.view(session, row)
    response = templates.TemplateResponse(
        request,
        "competition.html",
        {
            "competition": row,
            "limits": limits(row),
            "leaderboard": board,
            "chart": charts.histogram(
                f"{board['metric']}: how the best scores spread",
                [entry["score"] for entry in board["entries"]],
            ),
            "projects": projects,
            "csrf_token": csrf_token,
            **form,
        },
        status_code=status_code,
    )
    forms.set_cookie(request, response, cookie)
    return response


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
