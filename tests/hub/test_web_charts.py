"""What the website draws and ranks: server-side SVG charts (a project's score over its runs,
a run's score per moon, the leaderboard's distribution), shared ranks for equal scores."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import requests
from markupsafe import escape

from crunch_cli.hub.web import charts

GOOD = b"""\
def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def scored_run(caller, main: bytes = GOOD) -> dict:
    response = caller.submit({"main.py": main})
    assert response.status_code == 200, response.text
    run = caller.wait_for_run(caller.create_run(response.json()["id"])["id"])
    assert run["success"] is True, run
    return run


def svg(html: str, label: str) -> ElementTree.Element:
    """The chart with that label, parsed: it must be well-formed XML."""
    shown = re.escape(str(escape(label)))
    match = re.search(rf'<svg class="chart"[^>]*aria-label="{shown}".*?</svg>', html, re.S)
    assert match, f"no chart {label!r}"
    return ElementTree.fromstring(match.group(0))


def test_equal_scores_share_a_rank_and_every_page_draws_its_chart(hub, caller, caller_for):
    first = scored_run(caller)
    second = scored_run(caller_for("bob", "beta"))
    assert first["score"] == second["score"]

    board = caller.call("GET", "/v2/competitions/demo-timeseries/leaderboards/@default").json()
    assert [entry["rank"] for entry in board["entries"]] == [1, 1]

    competition = requests.get(f"{hub.url}/competitions/demo-timeseries").text
    histogram = svg(competition, "spearman: how the best scores spread")
    assert len(histogram.findall("{http://www.w3.org/2000/svg}rect")) == 1  # both in one bar
    assert "higher is better" in competition

    project = requests.get(f"{hub.url}/competitions/demo-timeseries/projects/alice/alpha").text
    line = svg(project, "spearman of each scored run, oldest first")
    assert len(line.findall("{http://www.w3.org/2000/svg}circle")) == 1
    assert "started (UTC)" in project

    run_page = requests.get(
        f"{hub.url}/competitions/demo-timeseries/projects/alice/alpha/runs/{first['id']}"
    ).text
    per_moon = svg(run_page, "spearman per moon")
    bars = per_moon.findall("{http://www.w3.org/2000/svg}rect")
    details = first["metrics"][0]["details"]  # the built-in scoring's value on each moon
    assert len(details) >= 2 and len(bars) == len(details)
    assert [detail["key"] for detail in details] == sorted(detail["key"] for detail in details)
    assert "took" in run_page


def test_a_chart_escapes_the_labels_it_is_given():
    drawn = charts.bars("<script>alert(1)</script>", [("<b>moon</b>", 0.5), ("x&y", -0.25)])

    assert drawn is not None
    assert "<script>" not in drawn and "<b>" not in drawn
    parsed = ElementTree.fromstring(str(drawn))
    assert parsed.get("viewBox") == f"0 0 {charts.WIDTH} {charts.HEIGHT}"
    assert len(parsed.findall("{http://www.w3.org/2000/svg}rect")) == 2


def test_no_chart_is_drawn_without_values():
    assert charts.line("nothing", []) is None
    assert charts.bars("nothing", []) is None
    assert charts.histogram("nothing", []) is None
