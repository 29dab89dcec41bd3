"""The hub runs submissions in a sandbox or not at all, unless its organizer says otherwise,
and then every run's log says so."""

from __future__ import annotations

import pytest
from test_hub_cli import crunch
from test_hub_runs import GOOD, run_submission

from crunch_cli.runner import sandbox


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bubblewrap_problem", lambda: "bubblewrap is not installed")


def test_a_hub_without_bubblewrap_refuses_to_serve_runs_and_says_what_to_do(
    tmp_path, without_bubblewrap
):
    result = crunch("hub", "serve", "--port", "0", "--root", str(tmp_path / "hub"))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: the hub cannot run submissions in a sandbox: bubblewrap is not installed",
        "hint: install bubblewrap (Debian and Ubuntu: apt install bubblewrap); or serve with "
        "--workers 0 (no runs), or --unsafe-no-sandbox for trusted code only",
    ]


def test_an_unsandboxed_hub_says_so_in_every_runs_log(restartable_hub, new_caller):
    with restartable_hub(sandbox=False) as hub:
        caller = new_caller(hub)
        run = run_submission(caller, GOOD)
        lines = [line["content"] for line in caller.run_logs(run["id"])]

    assert run["success"] is True, run
    assert any(line.startswith("sandbox: none: UNSAFE") for line in lines), lines


def test_run_logs_never_show_the_hubs_own_paths(restartable_hub, new_caller):
    """Unsandboxed, the code runs at its host path: its log shows the sandbox's names."""
    where = (
        b'    import os\n    print("cwd", os.getcwd(), "file", __file__)\n'
        b"    raise ValueError(__file__)\n"
    )
    failing = GOOD.replace(b"    print(", where + b"    print(", 1)
    with restartable_hub(sandbox=False) as hub:
        caller = new_caller(hub)
        run = run_submission(caller, failing)
        lines = [line["content"] for line in caller.run_logs(run["id"])]
        root = str(hub.root)

    assert run["success"] is False
    assert "cwd /submission file /submission/main.py" in lines, lines
    assert any('File "/submission/main.py"' in line for line in lines), lines
    assert not any(root in line for line in lines), lines
    assert root not in run["errorMessage"] and "/submission/main.py" in run["errorMessage"]
