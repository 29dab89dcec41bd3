"""`crunch whitelist search/validate` with crunch-cli 13.0.1's `--language`, `--limit` and
`--all`, against a real hub."""

from __future__ import annotations

import json


def test_search_shows_ten_unless_told_and_all_with_all(hub, crunch):
    search = ("--api-base-url", hub.url, "whitelist", "search")

    default = crunch(*search, "s*", "--json")
    one = crunch(*search, "s%", "--limit", "1", "--json")
    every = crunch(*search, "s*", "--all", "--json")

    assert default.exit_code == one.exit_code == every.exit_code == 0, every.output
    shown = json.loads(every.stdout)
    assert len(shown) > 10
    assert all(item["name"].lower().startswith("s") for item in shown)
    assert json.loads(default.stdout) == shown[:10]
    assert (
        default.stderr == f"showing 10 of {len(shown)} libraries; --limit N or --all shows more\n"
    )
    assert json.loads(one.stdout) == shown[:1]


def test_python_is_the_only_language(hub, crunch, tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas\n")

    python = crunch(
        "--api-base-url", hub.url, "whitelist", "search", "pandas", "--language", "python"
    )
    valid = crunch("--api-base-url", hub.url, "whitelist", "validate", "--language", "PYTHON")
    search_r = crunch("--api-base-url", hub.url, "whitelist", "search", "dplyr", "--language", "r")
    validate_r = crunch("--api-base-url", hub.url, "whitelist", "validate", "--language", "R")

    assert python.exit_code == 0, python.output
    assert python.stdout.startswith("pandas")
    assert valid.exit_code == 0, valid.output
    for refused, value in ((search_r, "r"), (validate_r, "R")):
        assert refused.exit_code == 2
        assert f"'{value}': the whitelist holds Python libraries only" in refused.stderr
