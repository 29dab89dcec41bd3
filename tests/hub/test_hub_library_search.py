"""Searching the library whitelist with `%` wildcards: the public client's patterns find
what they always found, and hostile patterns cost no more than plain ones."""

from __future__ import annotations

import pytest
import requests

from crunch_cli.hub.whitelist import MAX_QUERY_LENGTH

# A pattern that sends a backtracking regular expression engine into a spin.
HOSTILE = ["%" * 13 + "!", "%a" * ((MAX_QUERY_LENGTH - 1) // 2) + "!"]


def names(hub, query: str | None, **params: str) -> list[str]:
    response = requests.get(
        f"{hub.url}/v2/libraries", params={"name": query, "size": "1000", **params}, timeout=10
    )
    assert response.status_code == 200, response.text
    return [library["name"] for library in response.json()["content"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scikit%learn", ["scikit-learn"]),
        ("%KIT-LEAR%", ["scikit-learn"]),
        ("sklea%", ["scikit-learn"]),  # by its alias, sklearn
        ("pan%as", ["pandas"]),
    ],
)
def test_wildcards_match_names_and_aliases_anywhere_ignoring_case(hub, query, expected):
    assert names(hub, query, standard="false") == expected


def test_a_lone_wildcard_matches_every_library(hub):
    every = names(hub, None)

    assert names(hub, "%") == names(hub, "%%") == every
    assert len(every) > 100


def test_a_wildcard_needs_its_pieces_in_order_and_whole(hub):
    assert names(hub, "learn%scikit") == []
    assert names(hub, "numpy%numpy") == []
    assert names(hub, "%json%") == ["json"]


@pytest.mark.parametrize("query", HOSTILE)
def test_a_pattern_of_many_wildcards_is_answered_at_once(hub, query):
    # The timeout proves the hub did not spin on it; a regex-based search took minutes.
    assert names(hub, query) == []


def test_a_query_longer_than_any_library_name_is_refused(hub):
    response = requests.get(
        f"{hub.url}/v2/libraries", params={"name": "a" * (MAX_QUERY_LENGTH + 1)}, timeout=10
    )

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_FAILED"
