"""What a client sends is stored, or refused with a 4xx, the same way on either database:
PostgreSQL refuses NUL characters and over-long strings where SQLite takes anything."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.both_databases


def test_a_message_holding_a_nul_character_is_stored_and_a_name_holding_one_is_not_found(
    hub, caller
):
    pushed = caller.submit({"main.py": b"def train(): pass\n"}, message="first\x00try")

    assert pushed.status_code == 200, pushed.text
    shown = caller.call("GET", caller.project_path(3) + "/submissions/1").json()["message"]
    assert shown in ("first\x00try", "first\ufffdtry")  # PostgreSQL stores U+FFFD instead
    missing = requests.get(f"{hub.url}/v1/competitions/demo-timeseries%00")
    assert (missing.status_code, missing.json()["code"]) == (404, "COMPETITION_NAME_NOT_FOUND")


def test_a_value_too_long_for_its_column_is_refused_as_invalid_where_the_database_checks(
    caller, hub_database
):
    imprint = "x" * 300  # submitter_imprint is VARCHAR(200); SQLite does not check lengths

    pushed = caller.submit({"main.py": b"def train(): pass\n"}, submitterImprint=imprint)

    if hub_database == "sqlite":
        assert pushed.status_code == 200, pushed.text
    else:
        assert pushed.status_code == 400
        assert pushed.json() == {
            "code": "VALIDATION_FAILED",
            "message": "invalid request: a value in it is too long or out of range for the "
            "hub's database",
        }
