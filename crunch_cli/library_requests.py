"""Ask the hub's organizer to whitelist a library (crunch-cli 13's `whitelist request`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crunch_cli.api import ProjectClient

# crunch-cli 13's `--gpu` words, and the wire values they stand for.
GPU_REQUIREMENTS: dict[str, str | None] = {
    "unknown": None,
    "useless": "OPTIONAL",
    "useful": "RECOMMENDED",
    "required": "REQUIRED",
}


def request_library(
    client: ProjectClient,
    *,
    name: str | None,
    alias: str | None,
    language: str = "PYTHON",
    gpu: str = "unknown",
    additional_details: str | None = None,
) -> dict[str, Any]:
    """Send the request for the project's competition; returns it as the hub recorded it
    (`verdict` PENDING, or APPROVED when the library is already allowed)."""
    body = {
        "name": name,
        "alias": alias,
        "language": language,
        "gpuRequirement": GPU_REQUIREMENTS[gpu],
        "additionalDetails": additional_details,
    }
    return client.request_library(body)
