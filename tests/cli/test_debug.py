"""`--debug` shows each HTTP request and its answer on stderr, secrets masked, whether it
comes before the command or after it."""

from __future__ import annotations

import json
import re
import subprocess
import sys


def debug_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("debug: ")]


def test_debug_after_the_command_shows_each_request_with_signatures_and_tokens_masked(
    workspace, crunch, hub
):
    token = (workspace / ".crunchdao" / "token").read_text().strip()

    result = crunch("download", "--force", "--debug")

    assert result.exit_code == 0, result.output
    lines = debug_lines(result.stderr)
    assert f"debug: GET {hub.url}/v1/competitions/demo-timeseries -> 200 OK" in [
        re.sub(r" \(\d+ ms\)$", "", line) for line in lines
    ]
    blobs = [line for line in lines if "/blobs/" in line]
    assert len(blobs) == 5
    assert all(re.search(r"\?expires=\d+&signature=<hidden> -> 200 OK", line) for line in blobs)
    assert token not in result.output
    assert "5 data files in data (5 downloaded, 0 already up to date)" in result.stdout


def test_debug_before_the_command_works_as_it_always_did(hub, crunch):
    result = crunch("--debug", "--api-base-url", hub.url, "list", "--json")

    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
    assert [re.sub(r" \(\d+ ms\)$", "", line) for line in debug_lines(result.stderr)] == [
        f"debug: GET {hub.url}/v2/competitions?page=0&size=100 -> 200 OK"
    ]


def test_without_debug_nothing_about_http_is_printed(workspace, crunch):
    result = crunch("download")

    assert result.exit_code == 0, result.output
    assert debug_lines(result.stderr) == []


def test_debug_after_the_command_shows_the_traceback_of_an_error(tmp_path):
    command = ["--api-base-url", "http://127.0.0.1:9", "ping", "--debug"]
    result = subprocess.run(
        [sys.executable, "-m", "crunch_cli", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert result.stderr.startswith(
        "debug: GET http://127.0.0.1:9/v2/competitions?page=0&size=100 -> connection refused\n"
        "Traceback (most recent call last):\n"
    )
    assert result.stderr.endswith(
        "HubUnreachableError: cannot reach the hub at http://127.0.0.1:9: connection refused\n"
    )


def test_a_command_with_its_own_debug_keeps_it(workspace, crunch):
    result = crunch("run", "logs", "1", "--debug")

    assert result.exit_code == 1
    assert debug_lines(result.stderr) == []
    assert "error: " in result.stderr
