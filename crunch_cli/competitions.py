"""Which competitions `crunch list` shows: crunch-cli 13's filters.

The filters go to the hub as the query parameters 13.0.1 sends, and each listed competition
is checked again here on the fields it carries: a hub that ignores a parameter (ours knows
`format` and `status` only) still gives the list asked for. A field a competition does not
carry (our hub's have no `continuous`, `featured` or `organizerName`) is the hub's word alone.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crunch_cli.api import HubClient

FORMATS = ("TIMESERIES", "DAG", "STREAM", "SPATIAL", "UNSTRUCTURED")
MODES = ("OFFLINE", "REAL_TIME")
STATUSES = ("PENDING", "OPEN", "CLOSED")


@dataclasses.dataclass(frozen=True)
class CompetitionFilter:
    """None leaves a field unfiltered; the enum values are their wire names (upper case)."""

    format: str | None = None
    mode: str | None = None
    status: str | None = None
    continuous: bool | None = None
    external: bool | None = None
    featured: bool | None = None
    organizer_name: str | None = None
    team_based: bool | None = None

    def wanted(self) -> dict[str, str | bool]:
        """The set filters by their wire (camelCase) names."""
        return {
            _camel(field.name): value
            for field in dataclasses.fields(self)
            if (value := getattr(self, field.name)) is not None
        }

    def matches(self, competition: dict[str, Any]) -> bool:
        return all(
            key not in competition or _same(competition[key], value)
            for key, value in self.wanted().items()
        )


def find_competitions(client: HubClient, filters: CompetitionFilter) -> list[dict[str, Any]]:
    query = {
        key: str(value).lower() if isinstance(value, bool) else value
        for key, value in filters.wanted().items()
    }
    return [item for item in client.competitions(query) if filters.matches(item)]


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _same(actual: Any, wanted: str | bool) -> bool:
    if isinstance(wanted, bool):
        return actual is wanted
    return str(actual).casefold() == wanted.casefold()
