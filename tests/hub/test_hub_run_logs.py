"""A run's log on the hub: bounded to its head and tail while the run goes on, long lines
cut visibly, and read whole or a page at a time."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from test_hub_runs import GOOD, push, training_does
from test_hub_runs_lifecycle import wait_until

from crunch_cli.hub.routes.runs import MAX_LOG_PAGE
from crunch_cli.hub.runlogs import HEAD_LINES, MAX_LINE_LENGTH, TAIL_LINES

pytestmark = pytest.mark.both_databases

if TYPE_CHECKING:
    from hubs import Caller

PRINTED = 3 * (HEAD_LINES + TAIL_LINES)
FLOODING = training_does(
    f'[print("line", number) for number in range({PRINTED})]; '
    'print("done printing", flush=True); __import__("time").sleep(60)'.encode()
)
OMITTED = re.compile(r"^\[([\d,]+) lines left out")


def user_numbers(lines: list[dict]) -> list[int]:
    return [
        int(line["content"].split()[1])
        for line in lines
        if line["emitter"] == "user" and line["content"].startswith("line ")
    ]


def test_a_run_printing_without_end_keeps_its_head_and_tail_while_it_runs(caller: Caller):
    run = caller.create_run(push(caller, FLOODING)["id"])
    wait_until(
        lambda: any(line["content"] == "done printing" for line in caller.run_logs(run["id"]))
    )

    lines = caller.run_logs(run["id"])

    assert caller.run(run["id"])["status"] == "RUNNING"
    assert len(lines) <= HEAD_LINES + TAIL_LINES + 1
    markers = [(index, OMITTED.match(line["content"])) for index, line in enumerate(lines)]
    [(at, marker)] = [(index, match) for index, match in markers if match]
    head, tail = user_numbers(lines[:at]), user_numbers(lines[at + 1 :])
    assert head == list(range(len(head))) and len(head) > HEAD_LINES / 2
    assert tail == list(range(tail[0], PRINTED))
    assert int(marker.group(1).replace(",", "")) == tail[0] - len(head)
    assert lines[at]["emitter"] == "hub" and lines[at]["error"] is False
    caller.call("DELETE", f"{caller.project_path(3)}/runs/{run['id']}")


def test_an_overlong_line_is_cut_with_a_visible_mark(caller: Caller):
    shouting = f'print("x" * {MAX_LINE_LENGTH + 1234})\n'.encode() + GOOD
    run = caller.wait_for_run(caller.create_run(push(caller, shouting)["id"])["id"])

    [cut] = [line["content"] for line in caller.run_logs(run["id"]) if line["content"][:1] == "x"]

    assert cut == "x" * MAX_LINE_LENGTH + " [line cut: 1,234 more characters]"


def test_logs_read_a_page_at_a_time_add_up_to_the_whole_log(caller: Caller):
    noisy = b'[print("line", number) for number in range(250)]\n' + GOOD
    run = caller.wait_for_run(caller.create_run(push(caller, noisy)["id"])["id"])
    whole = caller.run_logs(run["id"])

    pages, after = [], None
    while page := logs_page(caller, run["id"], after, size=100):
        pages.append(page)
        after = page[-1]["id"]

    assert [line for page in pages for line in page] == whole
    assert [len(page) for page in pages[:-1]] == [100] * (len(pages) - 1)
    assert user_numbers(whole) == list(range(250))


def logs_page(caller: Caller, run_id: int, after: int | None, size: int) -> list[dict]:
    params = {"size": size} if after is None else {"size": size, "after": after}
    response = caller.call("GET", f"{caller.project_path(3)}/runs/{run_id}/logs", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_log_page_larger_than_the_maximum_is_refused(caller: Caller):
    run = caller.create_run(push(caller, GOOD)["id"])
    path = f"{caller.project_path(3)}/runs/{run['id']}/logs"

    for size in (0, MAX_LOG_PAGE + 1):
        response = caller.call("GET", path, params={"size": size})

        assert response.status_code == 400
        assert response.json()["code"] == "VALIDATION_FAILED"
