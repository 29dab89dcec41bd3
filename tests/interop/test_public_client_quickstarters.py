"""The public `crunch-cli` against our hub's quickstarters and library requests: it lists,
shows and applies the built-in and an organizer's quickstarters, and files a request."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_public_client import set_up

from crunch_cli.hub import library_requests
from crunch_cli.hub.quickstarters import add_quickstarter

pytestmark = pytest.mark.slow

TEMPLATES = Path(__file__).resolve().parents[2] / "crunch_cli" / "templates" / "timeseries"


def test_public_client_lists_shows_and_applies_our_quickstarters(public_crunch, hub, tmp_path):
    (tmp_path / "mine").mkdir()
    baseline = tmp_path / "mine" / "baseline.py"
    baseline.write_text("def train():\n    pass\n")
    add_quickstarter(hub.settings, "demo-timeseries", [baseline], title="A baseline")
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")

    listed = public_crunch.ok("quickstarter", "list", cwd=workspace).stdout
    shown = public_crunch.ok("quickstarter", "show", "notebook", cwd=workspace).stdout
    public_crunch.ok("quickstarter", "apply", "notebook", "--overwrite", cwd=workspace)
    public_crunch.ok("quickstarter", "apply", "baseline", cwd=workspace)
    missing = public_crunch("quickstarter", "show", "nope", cwd=workspace)

    assert [line.split()[:1] for line in listed.splitlines() if "'" in line] == [
        ["notebook"],
        ["code"],
        ["baseline"],
    ]
    assert "type: notebook" in shown and "- main.ipynb" in shown and "- requirements.txt" in shown
    for name in ("main.ipynb", "requirements.txt"):
        assert (workspace / name).read_bytes() == (TEMPLATES / name).read_bytes()
    assert (workspace / "baseline.py").read_bytes() == baseline.read_bytes()
    assert missing.returncode != 0
    assert "quickstarter: not found: nope" in missing.stdout


def test_public_client_requests_a_library_and_the_organizer_sees_it(public_crunch, hub, tmp_path):
    workspace = set_up(public_crunch, hub, tmp_path, "--no-data")

    done = public_crunch.ok(
        "whitelist", "request", "--name", "polars-extra", "--gpu", "required",
        "--additional-details", "speed", cwd=workspace,
    )  # fmt: skip

    assert "request: created #1 for polars-extra (pending)" in done.stdout
    [recorded] = library_requests.list_requests(hub.settings)
    assert (recorded.name, recorded.gpu_requirement, recorded.additional_details) == (
        "polars-extra",
        "REQUIRED",
        "speed",
    )
