"""Whatever a client sends, the hub answers it with a 2xx, 3xx or 4xx, never a 5xx: the
schema the hub serves drives schemathesis through every documented operation, with valid
and invalid inputs and a valid project token, and the inputs that once made the hub fail
stay here as plain cases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from crunch_cli.hub import HubSettings
from crunch_cli.hub.server import serve_in_thread

if TYPE_CHECKING:
    from hubs import Caller

EXAMPLES_PER_OPERATION = 25
TOO_BIG = str(2**64)
SUPERSCRIPT_TWO = "²"  # a digit to str.isdigit(), not to int()


def own_project(caller: Caller, case: schemathesis.Case, pin: bool) -> schemathesis.Case:
    """Half the cases name the caller's own project, so that they get past the project
    look-up to the code behind it."""
    if pin and case.path_parameters:
        own = {"competition": caller.competition, "user_selector": "@me", "name": caller.project}
        for name, value in own.items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    return case


def server_errors(caller: Caller, operation: schemathesis.APIOperation) -> list[str]:
    """The requests to `operation` that got a 5xx, as curl commands."""
    failures: list[str] = []
    generated = st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode))

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=st.builds(lambda case, pin: own_project(caller, case, pin), generated, st.booleans())
    )
    def call(case: schemathesis.Case) -> None:
        response = case.call(base_url=caller.url, headers=caller.headers, timeout=30)
        if response.status_code >= 500:
            failures.append(case.as_curl_command(headers=caller.headers, base_url=caller.url))

    call()
    return failures


def test_no_request_makes_the_hub_fail(caller: Caller):
    schema = schemathesis.openapi.from_url(caller.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]

    failures = [failure for operation in operations for failure in server_errors(caller, operation)]

    assert len(operations) > 30
    assert failures == []


def test_the_schema_is_served_without_the_website(hub):
    paths = requests.get(f"{hub.url}/openapi.json", timeout=10).json()["paths"]

    assert "/v2/libraries" in paths
    assert "/v3/competitions/{competition}/projects/{user_selector}/{name}/runs" in paths
    assert not any(path == "/" or path.startswith("/competitions/") for path in paths)


def test_an_organizer_can_keep_the_schema_private(hub_root):
    with serve_in_thread(HubSettings(hub_root, openapi=False)) as server:
        response = requests.get(f"{server.url}/openapi.json", timeout=10)

    assert response.status_code == 404
    assert response.json()["code"] == "ROUTE_NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path", "options", "status"),
    [
        ("GET", f"/v1/competitions/{SUPERSCRIPT_TWO}", {}, 404),
        ("GET", f"/v1/competitions/{TOO_BIG}", {}, 404),
        ("GET", f"/v1/competitions/{{competition}}/rounds/{SUPERSCRIPT_TWO}", {}, 404),
        ("GET", f"/v2/users/{SUPERSCRIPT_TWO}", {}, 404),
        ("GET", f"/v2/users/{TOO_BIG}", {}, 404),
        ("GET", f"{{project3}}/submissions/{SUPERSCRIPT_TWO}", {}, 404),
        ("GET", f"{{project3}}/submissions/{TOO_BIG}", {}, 404),
        ("GET", "{project4}/clone", {"params": {"submissionNumber": TOO_BIG}}, 400),
        ("GET", f"{{project3}}/runs/{TOO_BIG}", {}, 400),
        ("DELETE", f"{{project3}}/runs/{TOO_BIG}", {}, 400),
        ("GET", "{project3}/runs/1/logs", {"params": {"after": TOO_BIG}}, 400),
        ("GET", "{project3}/runs", {"params": {"page": str(2**62)}}, 400),
        ("POST", "{project3}/runs", {"json": {"submissionId": int(TOO_BIG)}}, 400),
        ("GET", f"/v1/uploads/some-upload/chunks/{TOO_BIG}/request", {}, 400),
    ],
)
def test_a_number_no_database_can_hold_is_refused_not_a_failure(
    caller: Caller, method: str, path: str, options: dict[str, Any], status: int
):
    url = path.format(
        competition=caller.competition,
        project3=caller.project_path(3),
        project4=caller.project_path(4),
    )

    response = caller.call(method, url, timeout=10, **options)

    assert response.status_code == status, response.text
    assert response.json()["code"]
