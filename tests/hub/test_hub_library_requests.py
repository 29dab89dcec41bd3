"""Requests to whitelist a library: what a participant sends (crunch-cli 13's call), and
the organizer's `crunch hub whitelist requests|approve|reject`."""

from __future__ import annotations

import json

import requests
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.hub import library_requests

REQUESTS = "/v1/library-requests"


def crunch(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def ask(caller, **body):
    return caller.call("POST", REQUESTS, json=body)


def test_a_request_is_pending_until_the_organizer_approves_it_then_the_library_is_allowed(
    hub, caller
):
    created = ask(
        caller,
        name="polars-extra",
        alias="polars_extra",
        gpuRequirement="RECOMMENDED",
        additionalDetails="fast joins",
    )

    assert created.status_code == 200, created.text
    body = created.json()
    assert {key: body[key] for key in ("name", "alias", "language", "verdict")} == {
        "name": "polars-extra",
        "alias": "polars_extra",
        "language": "PYTHON",
        "verdict": "PENDING",
    }
    assert body["createdAt"] and body["verdictAt"] is None
    assert (
        caller.call("GET", "/v2/libraries", params={"name": "polars_extra"}).json()["content"] == []
    )

    listed = crunch("hub", "whitelist", "requests", "--root", str(hub.root))
    approved = crunch("hub", "whitelist", "approve", "POLARS_EXTRA", "--root", str(hub.root))

    assert listed.exit_code == 0, listed.output
    assert f"#{body['id']} " in listed.stdout
    assert (
        "demo-timeseries alice/alpha: polars-extra (alias polars_extra) "
        "[python, gpu recommended] pending\n    fast joins\n"
    ) in listed.stdout
    assert approved.exit_code == 0, approved.output
    assert approved.stdout == f"whitelisted POLARS_EXTRA; approved request #{body['id']}\n"
    # The running hub sees the new file at once: no restart.
    [library] = caller.call("GET", "/v2/libraries", params={"name": "polars_extra"}).json()[
        "content"
    ]
    assert (library["name"], library["aliases"], library["gpuRequirement"]) == (
        "polars-extra",
        ["polars_extra"],
        "RECOMMENDED",
    )
    after = crunch("hub", "whitelist", "requests", "--root", str(hub.root))
    assert "approved: whitelisted as polars-extra" in after.stdout
    assert crunch("hub", "whitelist", "requests", "--pending", "--root", str(hub.root)).stdout == (
        "no library requests\n"
    )


def test_approving_keeps_what_the_organizer_listed_meanwhile(hub, caller):
    ask(caller, alias="house2", name="house-lib")
    extra = hub.root / "libraries.json"
    extra.write_text(json.dumps([{"name": "house-lib", "aliases": ["house"]}]))

    crunch("hub", "whitelist", "approve", "house-lib", "--root", str(hub.root))

    assert json.loads(extra.read_text()) == [{"name": "house-lib", "aliases": ["house", "house2"]}]


def test_a_request_for_a_whitelisted_library_is_approved_at_once(caller):
    body = ask(caller, alias="sklearn").json()

    assert body["verdict"] == "APPROVED"
    assert body["verdictReason"] == "already whitelisted as scikit-learn"


def test_reject_records_the_reason_and_approve_then_finds_nothing_pending(hub, caller):
    ask(caller, name="bitcoin-miner")

    rejected = crunch(
        "hub", "whitelist", "reject", "bitcoin-miner", "--reason", "no", "--root", str(hub.root)
    )
    approve = crunch("hub", "whitelist", "approve", "bitcoin-miner", "--root", str(hub.root))

    assert rejected.stdout == "rejected request #1 for bitcoin-miner\n"
    assert approve.exit_code == 1
    assert approve.stderr.startswith("error: no pending library request for 'bitcoin-miner'\n")
    assert not (hub.root / "libraries.json").exists()


def test_bad_requests_are_refused_with_the_field_at_fault(hub, caller, caller_for):
    cases = {
        "name": {},
        "language": {"name": "x", "language": "COBOL"},
        "gpuRequirement": {"name": "x", "gpuRequirement": "SOMETIMES"},
        "alias": {"alias": "../../etc"},
    }
    for field, body in cases.items():
        answer = ask(caller, **body)
        assert answer.status_code == 400, (field, answer.text)
        assert answer.json()["fieldErrors"][0]["field"] == field
    other = caller_for("bob", "beta")
    stream_id = requests.get(f"{hub.url}/v1/competitions/demo-stream").json()["id"]
    assert ask(other, name="x", competitionId=stream_id).json()["code"] == "ACCESS_DENIED"
    assert requests.post(f"{hub.url}{REQUESTS}", json={"name": "x"}).status_code == 401


def test_a_project_may_keep_only_so_many_requests_pending(caller, monkeypatch):
    monkeypatch.setattr(library_requests, "MAX_PENDING_PER_PROJECT", 2)
    assert [ask(caller, name=f"lib{n}").status_code for n in range(3)] == [200, 200, 429]
