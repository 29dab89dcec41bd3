"""Make text from elsewhere safe to show on the user's terminal.

A hub's names, messages and run logs, and a run's own output, are written by someone else.
Printed as they are, an escape sequence in them can retitle the terminal, rewrite what is
already on screen, plant a clipboard write or hide text; a bidirectional override can make
a line read differently from what it is. `printable` removes all of that and keeps the
words; `shown` also masks secrets, and is what every printer of outside text goes through.
"""

from __future__ import annotations

import re

from crunch_cli.redact import redact

# ESC-introduced sequences: CSI (`ESC [ ... final`), OSC/DCS/SOS/PM/APC strings (ended by
# BEL or ST), and two-character escapes; then the same introducers in their 8-bit C1 forms.
_SEQUENCES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                      # CSI
    | \x1b[\]PX^_].*?(?:\x07|\x1b\\|$)           # OSC, DCS, SOS, PM, APC
    | \x1b[ -/]*[0-~]                            # two-character escapes (and ESC ( B ...)
    | \x9b[0-?]*[ -/]*[@-~]                      # C1 CSI
    | [\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x9c|$)   # C1 string introducers
    """,
    re.VERBOSE | re.DOTALL,
)
# What is left of control characters once sequences are gone, except tab and newline,
# plus the bidirectional embeddings, overrides and isolates.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without terminal control sequences or characters; line breaks stay."""
    text = text.replace("\r\n", "\n")
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))


def shown(text: object) -> str:
    """How a value from a hub, a log or an exception is printed: printable, secrets masked."""
    return redact(printable(str(text)))
