"""The data release: which files to download (as signed URLs) and how to read them."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query

from crunch_cli.hub import lookups, metrics
from crunch_cli.hub.deps import BaseUrlDep, ProjectDep, SessionDep, StoreDep
from crunch_cli.hub.errors import HubApiError
from crunch_cli.hub.models import Competition, Round
from crunch_cli.hub.store import HubStore

router = APIRouter()

SIZE_VARIANTS = {"DEFAULT", "SMALL", "LARGE"}
FEATURE_GROUP = "default"


@router.get(
    "/v2/competitions/{competition}/rounds/{round_selector}/phases/{phase_selector}/data-release"
)
def data_release(
    competition: str,
    round_selector: str,
    phase_selector: str,
    session: SessionDep,
    store: StoreDep,
    base_url: BaseUrlDep,
    caller: ProjectDep,
    size_variant: Annotated[str, Query(alias="sizeVariant")] = "DEFAULT",
) -> dict[str, Any]:
    if size_variant.upper() not in SIZE_VARIANTS:
        raise HubApiError(
            400,
            "VALIDATION_FAILED",
            f"unknown sizeVariant {size_variant!r}",
            fieldErrors=[{"field": "sizeVariant", "message": "DEFAULT, SMALL or LARGE"}],
        )
    row = lookups.competition(session, competition)
    if row.id != caller.competition_id:
        raise HubApiError(
            403, "ACCESS_DENIED", "this project token opens another competition's data"
        )
    round_row = lookups.round_(row, round_selector)
    phase = lookups.phase(round_row, phase_selector)
    if phase.type != "SUBMISSION":
        raise HubApiError(
            404,
            "MISSING_PHASE_DATA",
            f"the {phase.type} phase publishes no data",
            phaseId=phase.id,
            phaseType=phase.type,
        )
    # Every size variant is the same release: the hub keeps one copy of the data.
    return release_view(row, round_row, store, base_url)


def release_view(
    row: Competition, round_row: Round, store: HubStore, base_url: str
) -> dict[str, Any]:
    public_files = [data_file for data_file in row.data_files if not data_file.hidden]
    fingerprint = hashlib.sha256()
    for data_file in sorted(public_files, key=lambda item: item.key):
        fingerprint.update(f"{data_file.key}:{data_file.sha256}\n".encode())
    ttl = store.settings.signed_url_ttl
    return {
        "id": round_row.id,
        "number": round_row.number,
        "name": f"{row.name} round {round_row.number}",
        "embargo": row.embargo,
        "numberOfFeatures": len(row.features),
        "hash": fingerprint.hexdigest(),
        "dataFiles": {
            data_file.key: {
                "name": data_file.name,
                "url": store.blobs.download_url(data_file.blob_key, base_url=base_url, ttl=ttl),
                "size": data_file.size,
                "signed": True,
                "compressed": False,
                "sha256": data_file.sha256,
            }
            for data_file in public_files
        },
        "columnNames": column_names(row),
        "splits": row.splits,
        "defaultFeatureGroup": FEATURE_GROUP,
        "features": [{"group": FEATURE_GROUP, "name": name} for name in row.features],
    }


def column_names(row: Competition) -> dict[str, Any]:
    target = metrics.target(row)
    return {
        "id": row.id_column,
        "moon": row.moon_column,
        "side": None,
        "input": row.target_column,
        "output": row.prediction_column,
        "targets": [
            {
                "id": target.id,
                "name": target.name,
                "side": None,
                "input": row.target_column,
                "output": row.prediction_column,
                "filePath": None,
            }
        ],
        # ours
        "target": row.target_column,
        "prediction": row.prediction_column,
    }
