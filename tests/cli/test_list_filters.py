"""`crunch list` with crunch-cli 13.0.1's filters, against a real hub (three competitions:
time-series, DAG and stream, all open, none external or team-based)."""

from __future__ import annotations

import json


def names(crunch, hub, *filters: str) -> list[str]:
    result = crunch("--api-base-url", hub.url, "list", *filters, "--json")
    assert result.exit_code == 0, result.output
    return sorted(competition["name"] for competition in json.loads(result.stdout))


def test_each_filter_keeps_the_competitions_that_match(hub, crunch):
    everything = names(crunch, hub)

    assert len(everything) == 3
    assert names(crunch, hub, "--format", "timeseries") == ["demo-timeseries"]
    assert names(crunch, hub, "--format", "DAG", "--status", "open") == ["demo-cross-sectional"]
    assert names(crunch, hub, "--status", "CLOSED") == []
    assert names(crunch, hub, "--mode", "offline") == everything
    assert names(crunch, hub, "--mode", "real_time") == []
    assert names(crunch, hub, "--external", "false", "--team-based", "no") == everything
    assert names(crunch, hub, "--external", "true") == []
    assert names(crunch, hub, "--team-based", "1") == []


def test_filters_on_fields_the_hub_lacks_are_accepted_and_leave_the_list(hub, crunch):
    everything = names(crunch, hub)

    assert names(crunch, hub, "--featured", "true") == everything
    assert names(crunch, hub, "--continuous", "false") == everything
    assert names(crunch, hub, "--organizer-name", "someone") == everything


def test_nothing_found_is_said_and_bad_values_are_refused(hub, crunch):
    none = crunch("--api-base-url", hub.url, "list", "--external", "true")
    bad_format = crunch("--api-base-url", hub.url, "list", "--format", "tabular")
    bad_boolean = crunch("--api-base-url", hub.url, "list", "--featured", "maybe")

    assert (none.exit_code, none.stdout) == (0, "No competitions found.\n")
    assert bad_format.exit_code == 2
    assert "'tabular': choose timeseries, dag, stream, spatial, unstructured" in bad_format.stderr
    assert bad_boolean.exit_code == 2
    assert "'maybe': true or false" in bad_boolean.stderr


def test_the_table_names_the_cross_sectional_format_as_people_say_it(hub, crunch):
    result = crunch("--api-base-url", hub.url, "list")

    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "demo-cross-sectional" in line)
    assert "cross-sectional" in row.replace("demo-cross-sectional", "")
    assert "DAG" not in result.stdout
