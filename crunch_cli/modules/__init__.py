"""Competitions that ship their own modules (crunch-cli's "unstructured" kind).

The organizer's `runner.py` says how the participant's code is called and `scoring.py`
how its predictions are checked and scored. Both are someone else's code, like the
participant's: they only ever run in sandboxed processes (`roles`, started by `pipeline`
through the same `crunch_cli.runner.process` as every run), never in `crunch` itself nor in
the hub.
"""
