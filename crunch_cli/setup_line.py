"""The `crunch setup` line handed to a competitor (by the website, `crunch hub token` and
`crunch setup-command`), in one place so that all three give the same safe form.

The token travels through standard input (`--token -`), not as an argument: arguments are
readable by every user of a machine (`ps`, `/proc/PID/cmdline`), and a token seen there can
be redeemed first by someone else. `echo` is built into every common shell, so the token is
not on any command line either.
"""

from __future__ import annotations

import shlex


def setup_line(base_url: str, competition: str, project: str, token: str) -> str:
    command = ["crunch", "--api-base-url", base_url, "setup", competition, project, "--token", "-"]
    return f"echo {shlex.quote(token)} | {shlex.join(command)}"
