"""Global options, parsed once and handed to every command.

Which hub, token, project and competitions source they mean is resolved by
`crunch_cli.environments.Settings`, the one place that knows the rules (the notebook API
uses it too); this only carries what the user typed to it.
"""

from __future__ import annotations

import dataclasses

from crunch_cli.environments import Settings, WorkspaceSettings


@dataclasses.dataclass
class State:
    debug: bool = False
    hide_tips: bool = False
    settings: Settings = dataclasses.field(default_factory=Settings)

    def workspace(self) -> WorkspaceSettings:
        """The settings of the workspace around the current folder."""
        return self.settings.workspace()

    @property
    def competitions_source(self) -> str | None:
        """The source the user named (`--competitions`), None for the hub's own."""
        return self.settings.competitions_source

    def nearby_base_url(self) -> str:
        """The hub for commands that also work outside a workspace."""
        return self.settings.nearby_base_url()
