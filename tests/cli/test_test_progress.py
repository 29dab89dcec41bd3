"""What a competitor sees while `crunch test` runs: a bar on a terminal, cleared before the
summary, with their own output readable above it; plain lines when the output is piped."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

MAIN = """\
import time


def train(X_train, y_train, model_directory_path):
    print(f"training on {len(X_train)} rows")


def infer(X_test):
    time.sleep(0.05)
    print(f"inferring {len(X_test)} rows")
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""

WIDTH = 100


def run_on_a_terminal(folder: Path, *args: str) -> str:
    """`crunch ARGS` with a terminal of WIDTH columns as its stdin, stdout and stderr;
    everything it wrote, as the terminal received it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, WIDTH, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(WIDTH)}
    environment.pop("CRUNCH_API_BASE_URL", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "crunch_cli", *args],
        cwd=folder,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment,
        close_fds=True,
    )
    os.close(follower)
    received = bytearray()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if select.select([leader], [], [], 1)[0]:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # the terminal closed: the command is over
                break
            if not chunk:
                break
            received += chunk
        elif child.poll() is not None:
            break
    child.wait(timeout=30)
    os.close(leader)
    return received.decode("utf-8", "replace")


def screen(written: str) -> list[str]:
    """What a terminal shows once `written` has reached it: enough of one to follow rich
    (carriage return, line feed, cursor up, erase line; colours ignored)."""
    rows: list[list[str]] = [[]]
    row = column = 0
    index = 0
    while index < len(written):
        sequence = re.match(r"\x1b\[\??([0-9;]*)([A-Za-z])", written[index:])
        if sequence:
            argument, final = sequence.groups()
            if final == "A":
                row = max(0, row - int(argument or 1))
            elif final == "K":
                rows[row] = [] if argument == "2" else rows[row][:column]
            index += len(sequence[0])
            continue
        character = written[index]
        index += 1
        if character == "\r":
            column = 0
            continue
        if character == "\n" or column >= WIDTH:
            row += 1
            column = 0 if character == "\n" else column
            rows.extend([] for _ in range(row + 1 - len(rows)))
            if character == "\n":
                continue
            column = 0
        line = rows[row]
        line.extend(" " for _ in range(column + 1 - len(line)))
        line[column] = character
        column += 1
    shown = ["".join(line).rstrip() for line in rows]
    while shown and not shown[-1]:
        shown.pop()
    return shown


def test_on_a_terminal_a_bar_follows_the_moons_and_is_gone_before_the_summary(workspace):
    (workspace / "main.py").write_text(MAIN)

    written = run_on_a_terminal(workspace, "test", "--skip-library-check")
    lines = screen(written)

    assert "crunch test: main.py" in lines, written
    assert re.search(r"\d+/20 moons · train 0:00:0\d · infer 0:00:0\d", written)
    assert "infer() · moon 7" in written
    # Gone from the screen: no bar, no spinner, no plain progress lines.
    assert not any(" moons · " in line or "[crunch test]" in line for line in lines)
    # The code's own lines, whole and in order, above the summary.
    assert lines.count("inferring 50 rows") == 22  # 20 moons, then the determinism check
    assert lines.index("training on 2900 rows") < lines.index("inferring 50 rows")
    assert lines.index("crunch test: main.py") > max(
        index for index, line in enumerate(lines) if line == "inferring 50 rows"
    )


def test_piped_output_has_a_line_per_phase_and_a_few_in_the_loop_not_one_per_moon(
    workspace, crunch, monkeypatch
):
    monkeypatch.setattr("crunch_cli.cli.test.PLAIN_EVERY_SECONDS", 0.25)
    (workspace / "main.py").write_text(MAIN)

    result = crunch("test", "--skip-library-check")

    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("[crunch test]")]
    assert progress[:3] == [
        "[crunch test] importing your code",
        "[crunch test] loading the data",
        "[crunch test] train() and infer() over 20 moons",
    ]
    assert progress[-2:] == [
        "[crunch test] checking determinism",
        "[crunch test] judging the predictions",
    ]
    loop = progress[3:-2]
    assert re.fullmatch(
        r"\[crunch test\] 20/20 moons, train\(\) [\d.]+ seconds?, infer\(\) [\d.]+ seconds",
        loop[-1],
    )
    assert 2 <= len(loop) < 20  # now and then, and where it ended; not once per moon
    assert all(re.match(r"\[crunch test\] \d+/20 moons, ", line) for line in loop)
    assert "\x1b[" not in result.output
    assert result.stdout.count("inferring 50 rows") == 22


def test_a_competition_runner_s_commands_are_counted(workspace, crunch):
    runner = (
        "def run(context):\n"
        "    for _ in range(3):\n"
        "        context.execute(command='train')\n\n"
        "def execute(module):\n"
        "    return {'train': lambda: module.get_function('train')()}\n"
    )
    (workspace / "main.py").write_text("def train():\n    print('one command')\n")
    modules = workspace / ".crunchdao" / "modules"
    modules.mkdir(exist_ok=True)
    (modules / "runner.py").write_text(runner)
    cache_path = workspace / ".crunchdao" / "competition.json"
    cache = json.loads(cache_path.read_text())
    cache["competition"]["format"] = "UNSTRUCTURED"
    cache["modules"] = {"runner": hashlib.sha256(runner.encode()).hexdigest()}
    cache_path.write_text(json.dumps(cache))

    result = crunch("test", "--skip-library-check")

    assert result.exit_code == 0, result.output
    assert result.stdout.count("one command") == 3
    progress = [line for line in result.stderr.splitlines() if line.startswith("[crunch test]")]
    assert progress[:2] == [
        "[crunch test] the competition's runner",
        "[crunch test] train()",
    ]
    assert re.fullmatch(r"\[crunch test\] 3 commands, train\(\) [\d.]+ seconds?", progress[-1])
