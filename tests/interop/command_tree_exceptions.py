"""What crunch-cli 13.0.1 has and our `crunch` leaves out, each with its reason.

Keys are what `test_command_tree.py` reports: a command path ("runner cloud"), which covers
its sub-commands and options, or a command and one option spelling ("list --format").
"""

_LATER = "not implemented yet"

EXCEPTIONS: dict[str, str] = {
    "runtime request": _LATER + " (our hub's runtimes need no request)",
    "run select": _LATER + " (our hub has no out-of-sample phase to select a run for)",
    "runner": "`runner cloud` and `runner cloud-executor` are entry points of 13.0.1's runner "
    "image and refuse to run outside it; `runner local` is `crunch test`, its alias " + _LATER,
    "organizer test leaderboard": _LATER,
    "organizer test reward": _LATER,
    "organizer test submission": _LATER,
}
