"""A project's runs: create one for a submission, list, show, follow the logs, terminate."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request

from crunch_cli.hub import runs, runtimes
from crunch_cli.hub.deps import OptionalPageDep, OwnProjectDep, SessionDep, StoreDep, StoredInt
from crunch_cli.hub.executor import Executor
from crunch_cli.hub.models import Run
from crunch_cli.hub.routes.submissions import PROJECT

router = APIRouter()

RUNS = "/v3" + PROJECT + "/runs"
SELECTION = "/v4" + PROJECT + "/selection"
MAX_LOG_PAGE = 1000


def _executor(request: Request) -> Executor:
    executor: Executor = request.app.state.executor
    return executor


@router.post(RUNS)
def create_run(
    body: runs.NewRun,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    project: OwnProjectDep,
) -> dict[str, Any]:
    runtimes.require(project.competition, body.runtime_definition_name)
    created = runs.create(session, project.competition, project, body)
    # Runs once the response is ready, i.e. after the commit: the worker finds the run.
    background.add_task(_executor(request).wake)
    return runs.view(created)


@router.get(RUNS)
def list_runs(
    session: SessionDep,
    project: OwnProjectDep,
    paging: OptionalPageDep,
) -> dict[str, Any] | list[dict[str, Any]]:
    """Pages for a client that asks for one (ours); a plain array otherwise (crunch-cli 13)."""
    if paging is None:
        return runs.every(session, project)
    return runs.page_of(session, project, paging)


@router.get(RUNS + "/{run_id}")
def get_run(
    run_id: StoredInt,
    session: SessionDep,
    project: OwnProjectDep,
) -> dict[str, Any]:
    return runs.view(runs.find(session, project, run_id))


@router.get(RUNS + "/{run_id}/logs")
def run_logs(
    run_id: StoredInt,
    session: SessionDep,
    project: OwnProjectDep,
    after: Annotated[StoredInt | None, Query()] = None,
    size: Annotated[int | None, Query(ge=1, le=MAX_LOG_PAGE)] = None,
) -> list[dict[str, Any]]:
    """The run's lines in arrival order; `after` (a line id) keeps only newer ones, `size`
    only that many. Without `size`, every line: clients that know no paging (crunch-cli
    13) read the whole log in one call, which the hub keeps bounded (`runlogs`).
    """
    return runs.logs(session, runs.find(session, project, run_id), after, size)


@router.delete(RUNS + "/{run_id}")
def terminate_run(
    run_id: StoredInt,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    project: OwnProjectDep,
) -> dict[str, Any]:
    """A queued run ends at once; a running one is stopped, and the answer waits (a few
    seconds at most) until its end is recorded.
    """
    runs.find(session, project, run_id)
    held = runs.request_termination(session, run_id)
    session.commit()  # the worker records the run's end: it needs the write lock we hold
    if held:
        _executor(request).terminate(run_id)
    with store.session(write=False) as fresh:  # the request's session may hold an older snapshot
        row = fresh.get(Run, run_id)
        assert row is not None
        return runs.view(row)


@router.get(SELECTION)
def get_selection(project: OwnProjectDep) -> dict[str, Any]:
    """Which run counts, as crunch-cli 13's `run list/show` ask. Nothing is selected on this
    hub: the leaderboard takes each project's best scored run, and there is no
    out-of-sample phase to select one for. `BEST_RUN` is ours; the client knows only its
    own origins by name, so the answer names no run (`runId` null) for it to label.
    """
    return {
        "origin": "BEST_RUN",
        "runnable": False,
        "runId": None,
        "submission": None,
        "trainFrequency": None,
        "forceFirstTrain": None,
        "createdAt": None,
        "updatedAt": None,
    }
