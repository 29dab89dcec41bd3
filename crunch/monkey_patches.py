"""`crunch.monkey_patches`: the one setting of crunch-cli's output patches that runners use.

A runner that starts worker processes sets `SHOULD_PRINT_PREFIX_WHEN_POSSIBLE` in each worker
(e.g. `"worker:3"`) so that progress lines printed there say which worker they come from. It
lives here, not in `crunch_cli`, because runner modules assign it as
`crunch.monkey_patches.SHOULD_PRINT_PREFIX_WHEN_POSSIBLE = ...`: whatever prints progress
lines reads it from this module at print time.
"""

from __future__ import annotations

SHOULD_PRINT_PREFIX_WHEN_POSSIBLE: str | None = None
