"""Shared fixtures: a real hub on a loopback port, and the demo data it serves.

The demo data is generated once per test session and registered once into a template hub
root; each `hub` fixture copies that root and starts the server on it, which takes a few
tens of milliseconds.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from crunch_cli.hub import HubSettings, demo, organizer
from crunch_cli.hub.models import CloneToken, Competition, DataFile, utcnow
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore


@dataclasses.dataclass(frozen=True)
class DemoData:
    """A generated data folder and the `create_competition` arguments that register it."""

    folder: Path
    kwargs: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Hub:
    url: str
    root: Path
    settings: HubSettings

    def mint_token(self, competition: str, user: str, project: str) -> str:
        return organizer.mint_setup_token(self.settings, competition, user, project)

    def create_competition(
        self, name: str, data_dir: Path, **kwargs: Any
    ) -> organizer.CompetitionSummary:
        return organizer.create_competition(self.settings, name, data_dir, **kwargs)

    def set_limits(self, competition: str, **limits: int) -> None:
        organizer.update_limits(self.settings, competition, **limits)

    def expire_setup_tokens(self) -> None:
        """Age every setup token past its validity, as if minutes had gone by."""
        with HubStore(self.settings) as store, store.session() as session:
            session.execute(update(CloneToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    def blob_path(self, competition: str, key: str) -> Path:
        with HubStore(self.settings) as store, store.session() as session:
            blob_key = session.scalars(
                select(DataFile.blob_key)
                .join(Competition)
                .where(Competition.name == competition, DataFile.key == key, ~DataFile.hidden)
            ).one()
            return store.blobs.path(blob_key)

    def corrupt_data_file(self, competition: str, key: str) -> None:
        """Flip bytes of a stored data file: the hub now serves bytes that miss their sha256."""
        path = self.blob_path(competition, key)
        content = bytearray(path.read_bytes())
        for index in range(0, len(content), max(1, len(content) // 16)):
            content[index] ^= 0xFF
        path.write_bytes(bytes(content))


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoData]:
    """One generated data folder per format: "timeseries", "cross-sectional", "stream"."""
    folders = {}
    for format_name, generate in demo.GENERATORS.items():
        folder = tmp_path_factory.mktemp(f"demo-{format_name}")
        folders[format_name] = DemoData(folder, generate(folder))
    return folders


@pytest.fixture(scope="session")
def _template_hub_root(
    tmp_path_factory: pytest.TempPathFactory, demo_data: dict[str, DemoData]
) -> Path:
    root = tmp_path_factory.mktemp("template") / "hub"
    settings = HubSettings(root)
    for data in demo_data.values():
        organizer.create_competition(settings, **data.kwargs)
    return root


@pytest.fixture
def hub(tmp_path_factory: pytest.TempPathFactory, _template_hub_root: Path) -> Iterator[Hub]:
    """A running hub with the three demo competitions, fresh for each test."""
    root = tmp_path_factory.mktemp("hub") / "root"
    shutil.copytree(_template_hub_root, root)
    settings = HubSettings(root)
    with serve_in_thread(settings) as server:
        yield Hub(url=server.url, root=root, settings=settings)
