"""Module competitions (the competition's own runner.py and scoring.py) as a competitor's
workspace holds them: modules under .crunchdao/modules with their sha256 recorded, data of
any kind under data/, metrics in the competition cache."""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

METRICS = [
    {
        "id": 1,
        "name": "accuracy",
        "displayName": "Accuracy",
        "unit": {"prefix": None, "scale": 4, "suffix": None},
        "weight": 1,
        "score": True,
        "multiplier": 1.0,
        "target": {"id": 1, "name": "y", "displayName": "y", "virtual": False, "primary": True},
    },
    {
        "id": 2,
        "name": "error-count",
        "displayName": "Errors",
        "unit": {"prefix": None, "scale": 0, "suffix": None},
        "weight": 1,
        "score": True,
        "multiplier": 1.0,
        "target": {"id": 1, "name": "y", "displayName": "y", "virtual": False, "primary": True},
    },
]


@pytest.fixture
def module_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """A workspace of a module competition: `modules` (kind → source), `data` (relative
    path → bytes) and the participant's `main` code; the current folder becomes its root."""

    def make(modules: dict[str, str], data: dict[str, bytes], main: str) -> Path:
        root = tmp_path / "workspace"
        metadata = root / ".crunchdao"
        (metadata / "modules").mkdir(parents=True)
        recorded = {}
        for kind, source in modules.items():
            content = textwrap.dedent(source).encode()
            (metadata / "modules" / f"{kind}.py").write_bytes(content)
            recorded[kind] = hashlib.sha256(content).hexdigest()
        config = {
            "competitionName": "modular",
            "projectName": "p",
            "userId": 1,
            "apiBaseUrl": "http://127.0.0.1:9",
        }
        (metadata / "project.json").write_text(json.dumps(config))
        cache = {
            "competition": {"name": "modular", "format": "UNSTRUCTURED"},
            "dataRelease": {"dataFiles": {}},
            "checks": [],
            "modules": recorded,
            "metrics": METRICS,
        }
        (metadata / "competition.json").write_text(json.dumps(cache))
        for relative, content in data.items():
            path = root / "data" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        (root / "main.py").write_text(textwrap.dedent(main))
        (root / "resources").mkdir()
        monkeypatch.chdir(root)
        return root

    return make
