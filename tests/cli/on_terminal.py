"""Run the real `crunch` on a pseudo-terminal and read what a person would see there.

What a command draws on a terminal (progress bars, tables) differs from what it prints
into a pipe, and only a real terminal shows the difference: `CliRunner` is a pipe.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def run_on_terminal(
    *args: str, cwd: Path, columns: int = 120, timeout: float = 60.0
) -> tuple[int, str]:
    """`crunch ARGS` with a terminal as its standard input, output and error; returns the
    exit status and everything it wrote, control sequences included."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRUNCH_")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-m", "crunch_cli", *args],
        cwd=cwd,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        close_fds=True,
    )
    os.close(terminal)
    written = b""
    try:
        while select.select([controller], [], [], timeout)[0]:
            try:
                data = os.read(controller, 65536)
            except OSError:  # the command exited and closed the terminal
                break
            if not data:
                break
            written += data
    finally:
        os.close(controller)
        status = process.wait(timeout)
    return status, written.decode(errors="replace")


def screen_lines(written: str) -> list[str]:
    """The lines left on screen: a carriage return starts its line over, and control
    sequences (colours, cursor moves, clears) are dropped."""
    lines = []
    for line in written.split("\n"):
        visible = line.rstrip("\r").rsplit("\r", 1)[-1]
        lines.append(_SEQUENCE.sub("", visible).rstrip())
    return lines
