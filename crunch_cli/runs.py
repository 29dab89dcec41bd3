"""Follow the hub's runs of your submissions: create, watch the logs, wait for the score.

The hub's API is poll-only, so following a run is a loop of `logs?after=<last id>` and
`run` calls; `crunch run wait`, `crunch run logs --follow` and `crunch push --wait` share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from crunch_cli.api import ProjectClient
from crunch_cli.errors import RunFailedError, RunTerminatedError, WaitTimeoutError

POLL_SECONDS = 0.5
FINISHED = "COMPLETED"


def create_run(
    project: ProjectClient,
    *,
    submission: int | str = "@last",
    train_frequency: int | None = None,
    force_first_train: bool | None = None,
    runtime: str | None = None,
) -> dict[str, Any]:
    """Run `submission` of the project on the hub (`@last` by default)."""
    found = project.submission(submission)
    body: dict[str, Any] = {"submissionId": found["id"]}
    if train_frequency is not None:
        body["trainFrequency"] = train_frequency
    if force_first_train is not None:
        body["forceFirstTrain"] = force_first_train
    if runtime is not None:
        body["runtimeDefinitionName"] = runtime
    return project.create_run(body)


def follow_run(
    project: ProjectClient,
    run_id: int,
    *,
    timeout: float | None = None,
    poll_interval: float = POLL_SECONDS,
    after: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[dict[str, Any]]:
    """Yield log lines as they arrive (those past the line id `after`), then the finished run
    (the last item, a Run dict)."""
    deadline = None if timeout is None else clock() + timeout
    while True:
        run = project.run(run_id)  # read before the logs: none can be missed after it ends
        for line in project.run_logs(run_id, after=after):
            after = line["id"]
            yield line
        if run["status"] == FINISHED:
            yield run
            return
        if deadline is not None and clock() >= deadline:
            raise WaitTimeoutError(
                f"run {run_id} is still {run['status'].lower()} after {timeout:g} s",
                hint=f"`crunch run wait {run_id}` to keep waiting, `crunch run logs {run_id}`",
            )
        sleep(poll_interval)


def outcome(run: dict[str, Any]) -> str:
    """One line saying how a finished run ended."""
    if run.get("success"):
        score = run.get("score")
        scored = f": {run.get('metric', 'score')} {score:.4f}" if score is not None else ""
        return f"run {run['id']} succeeded{scored}"
    if run.get("terminated"):
        return f"run {run['id']} was terminated"
    reason = run.get("exitReason") or "error"
    detail = f" ({run['errorMessage']})" if run.get("errorMessage") else ""
    return f"run {run['id']} failed: {reason}{detail}"


def raise_if_failed(run: dict[str, Any]) -> None:
    if run.get("terminated"):
        raise RunTerminatedError(
            outcome(run), hint=f"`crunch run logs {run['id']}` shows how far it got"
        )
    if not run.get("success"):
        raise RunFailedError(outcome(run), hint=f"`crunch run logs {run['id']}` shows why")
