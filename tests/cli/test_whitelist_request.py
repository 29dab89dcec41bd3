"""`crunch whitelist request`, crunch-cli 13's command, against a real hub."""

from __future__ import annotations

from crunch_cli.hub import library_requests


def test_a_request_is_recorded_for_the_workspaces_project_and_awaits_review(workspace, crunch, hub):
    result = crunch(
        "whitelist", "request", "--name", "polars-extra", "--alias", "polars_extra",
        "--gpu", "useful", "--additional-details", "fast joins",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "library request #1 for polars-extra: pending"
    [recorded] = library_requests.list_requests(hub.settings)
    assert (recorded.user, recorded.project, recorded.competition) == (
        "alice",
        "alpha",
        "demo-timeseries",
    )
    assert (recorded.alias, recorded.gpu_requirement, recorded.additional_details) == (
        "polars_extra",
        "RECOMMENDED",
        "fast joins",
    )


def test_a_library_already_allowed_is_approved_at_once(workspace, crunch):
    result = crunch("--hide-tips", "whitelist", "request", "--alias", "sklearn")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "library request #1 for sklearn: approved (already whitelisted as scikit-learn)\n"
    )


def test_a_request_needs_a_name_or_an_alias_and_a_known_gpu_word(workspace, crunch):
    nothing = crunch("whitelist", "request")
    bad_gpu = crunch("whitelist", "request", "--name", "x", "--gpu", "sometimes")

    assert nothing.exit_code == 2
    assert "give --name, --alias or both" in nothing.stderr
    assert bad_gpu.exit_code == 2
    assert "choose one of unknown, useless, useful, required" in bad_gpu.stderr
