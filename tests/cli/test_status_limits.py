"""`crunch status` tells a competitor what one run may take, in the units every command uses."""

from __future__ import annotations

import re


def test_status_shows_the_run_time_and_memory_limits(workspace, crunch, hub):
    hub.set_limits("demo-timeseries", run_time_limit_seconds=5400, run_memory_limit_mb=1536)

    result = crunch("status")

    assert result.exit_code == 0, result.output
    assert "time limit   1 hour and 30 minutes per run" in result.stdout
    assert "memory limit 1.5 GiB per run" in result.stdout


def test_status_shows_sizes_in_binary_units(workspace, crunch, hub):
    hub.set_limits("demo-timeseries", max_code_size=50 * 1024**2, max_model_size=5 * 1024**3)

    result = crunch("status")

    assert result.exit_code == 0, result.output
    assert re.search(r"^code limit\s+50 MiB$", result.stdout, re.MULTILINE)
    assert re.search(r"^model limit\s+5 GiB$", result.stdout, re.MULTILINE)
