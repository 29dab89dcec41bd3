"""The wire contract the public client relies on: shapes, codes, and its habits (id or
name in paths, doubled slashes, case-insensitive whitelist look-ups)."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.both_databases

COMPETITION = "demo-timeseries"

# HUB_API.md, "Fields the public client requires".
COMPETITION_FIELDS = {
    "id", "name", "displayName", "shortDescription", "start", "end", "status", "format",
    "mode", "splitKeyType", "external", "documentationUrl", "notebookUrl", "hostedByName",
    "prizePoolShortText", "teamBased", "onlyTeamLeader", "maxTeamSize", "projectCreationLimit",
    "encryptSubmissions", "phalaKeyUrl", "hideTrainFrequency", "hideForceFirstTrain",
}  # fmt: skip


@pytest.fixture
def auth(hub) -> dict[str, str]:
    token = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": hub.mint_token(COMPETITION, "alice", "alpha")},
    ).json()["plain"]
    return {"Authorization": f"Project-Token {token}"}


def test_a_competition_has_every_field_the_public_client_requires(hub):
    body = requests.get(f"{hub.url}/v1/competitions/{COMPETITION}").json()

    assert body.keys() >= COMPETITION_FIELDS
    assert body["format"] == "TIMESERIES"
    assert body["status"] == "OPEN"
    assert body["metric"] == "spearman"
    assert body["limits"]["submissionsPerDay"] > 0


@pytest.mark.parametrize("path", ["/v1/competitions/{}", "/v1/competitions/{}/rounds/@current"])
def test_a_competition_is_found_by_id_or_by_name(hub, path):
    by_name = requests.get(hub.url + path.format(COMPETITION)).json()
    by_id = requests.get(hub.url + path.format(1)).json()

    assert by_name == by_id
    assert "id" in by_id


def test_an_unknown_competition_is_named_in_the_error(hub):
    response = requests.get(f"{hub.url}/v1/competitions/no-such-thing/rounds/@current")

    assert response.status_code == 404
    assert response.json() == {
        "code": "COMPETITION_NAME_NOT_FOUND",
        "message": "no competition named 'no-such-thing' on this hub",
        "competitionName": "no-such-thing",
    }


def test_competitions_are_listed_page_by_page(hub):
    first = requests.get(f"{hub.url}/v2/competitions", params={"page": 0, "size": 2}).json()
    second = requests.get(f"{hub.url}/v2/competitions", params={"page": 1, "size": 2}).json()

    assert [item["name"] for item in first["content"]] == [
        "demo-timeseries",
        "demo-cross-sectional",
    ]
    assert [item["name"] for item in second["content"]] == ["demo-stream"]
    assert (first["totalElements"], first["totalPages"], first["pageSize"]) == (3, 2, 2)


def test_rounds_and_phases_resolve_current_last_and_numbers(hub):
    base = f"{hub.url}/v1/competitions/{COMPETITION}/rounds"
    current = requests.get(f"{base}/@current").json()

    assert requests.get(f"{base}/@last").json() == current
    assert requests.get(f"{base}/1").json() == current
    assert requests.get(base).json() == [current]
    assert current["end"] is not None
    phases = f"{hub.url}/v2/competitions/1/rounds/1/phases"
    assert requests.get(f"{phases}/@current").json()["type"] == "SUBMISSION"
    assert requests.get(f"{phases}/submission").json() == requests.get(phases).json()[0]
    missing = requests.get(f"{base}/7")
    assert (missing.status_code, missing.json()["code"]) == (404, "ROUND_NOT_FOUND")


def test_the_data_release_lists_public_files_and_column_names_but_not_hidden_ones(hub, auth):
    url = f"{hub.url}/v2/competitions/{COMPETITION}/rounds/@current/phases/@current/data-release"

    body = requests.get(url, headers=auth, params={"sizeVariant": "DEFAULT"}).json()

    assert set(body["dataFiles"]) == {
        "X_train",
        "y_train",
        "X_test",
        "y_test",
        "example_prediction",
    }
    for key, entry in body["dataFiles"].items():
        assert entry["name"] == f"{key}.parquet"
        assert entry["signed"] is True and entry["compressed"] is False
        assert entry["size"] > 0 and len(entry["sha256"]) == 64
        assert entry["url"].startswith(f"{hub.url}/blobs/")
    assert body["embargo"] == 2
    assert body["numberOfFeatures"] == 20 == len(body["features"])
    columns = body["columnNames"]
    assert (columns["id"], columns["moon"], columns["target"], columns["prediction"]) == (
        "id", "moon", "target", "prediction",
    )  # fmt: skip
    assert columns["targets"][0]["name"] == "target"
    assert {split["group"] for split in body["splits"]} == {"TRAIN", "TEST"}
    assert len(body["hash"]) == 64


def test_the_data_release_needs_a_project_token(hub):
    url = f"{hub.url}/v2/competitions/{COMPETITION}/rounds/1/phases/submission/data-release"

    response = requests.get(url)

    assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")


def test_a_cross_sectional_release_has_no_moon_column(hub, caller_for):
    caller = caller_for("alice", "alpha", "demo-cross-sectional")
    url = f"{hub.url}/v2/competitions/demo-cross-sectional/rounds/1/phases/submission/data-release"

    body = requests.get(url, headers=caller.headers).json()

    assert body["columnNames"]["moon"] is None
    assert body["splits"] == []


def test_checks_come_in_order_with_their_parameters(hub):
    checks = requests.get(f"{hub.url}/v1/competitions/demo-cross-sectional/checks").json()

    assert [check["function"] for check in checks] == [
        "COLUMNS_NAME", "NANS", "IDS", "VALUES_ALLOWED",
    ]  # fmt: skip
    assert checks[-1]["parameters"] == {"values": [0, 1]}
    assert [check["order"] for check in checks] == [0, 1, 2, 3]


def test_a_doubled_slash_in_the_path_is_treated_as_one(hub):
    response = requests.get(f"{hub.url}//v2/libraries", params={"name": "numpy"})

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["content"]] == ["numpy"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("sklearn", "scikit-learn"), ("SCIKIT-LEARN", "scikit-learn"), ("PIL", "pillow")],
)
def test_libraries_are_found_by_name_or_alias_ignoring_case(hub, query, expected):
    body = requests.get(
        f"{hub.url}/v2/libraries", params={"name": query, "language": "PYTHON"}
    ).json()

    assert [item["name"] for item in body["content"]] == [expected]
    assert body["content"][0]["standard"] is False


def test_standard_library_modules_are_whitelisted_as_standard(hub):
    body = requests.get(f"{hub.url}/v2/libraries", params={"name": "json"}).json()

    assert body["content"][0]["name"] == "json"
    assert body["content"][0]["standard"] is True


def test_library_names_accept_a_percent_wildcard(hub):
    body = requests.get(
        f"{hub.url}/v2/libraries", params={"name": "torch%", "standard": "false"}
    ).json()

    assert [item["name"] for item in body["content"]] == ["torch", "torchvision"]


def test_an_unknown_route_answers_json(hub):
    response = requests.get(f"{hub.url}/v9/nothing")

    assert response.status_code == 404
    assert response.json() == {
        "code": "ROUTE_NOT_FOUND",
        "message": "no such endpoint: GET /v9/nothing",
    }


def test_a_malformed_body_is_a_validation_error_naming_the_field(hub):
    response = requests.post(f"{hub.url}/v2/project-tokens/upgrade", json={"token": "x"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["fieldErrors"] == [{"field": "body.cloneToken", "message": "Field required"}]
