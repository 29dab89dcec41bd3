"""Golden files: each folder under corpus/ is a notebook (or a list of cells) beside the
script, requirements (Python's and R's), warnings, embedded files or error it must
convert to.

`CRUNCH_UPDATE_GOLDEN=1 pytest tests/convert` rewrites the expected files from the current
converter; review every diff by hand before committing it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from crunch_cli.convert import Conversion, convert_cells, convert_notebook
from crunch_cli.errors import CrunchError
from crunch_cli.requirements import build_requirements, format_requirements

CORPUS = Path(__file__).parent / "corpus"
UPDATE = os.environ.get("CRUNCH_UPDATE_GOLDEN") == "1"
CASES = sorted(path.name for path in CORPUS.iterdir() if path.is_dir())


def options(case: Path) -> dict[str, str]:
    """Keyword arguments of the conversion, plus `python`: the oldest Python whose parser
    reads the case (`except*` needs 3.11)."""
    path = case / "options.json"
    return json.loads(path.read_text()) if path.exists() else {}


def convert(case: Path) -> Conversion:
    kwargs = {key: value for key, value in options(case).items() if key != "python"}
    if (case / "notebook.ipynb").exists():
        # A relative path, as a user types it: messages quote it.
        return convert_notebook(Path("notebook.ipynb"), **kwargs)
    return convert_cells(json.loads((case / "cells.json").read_text()), **kwargs)


def outputs(case: Path) -> dict[str, str]:
    """Every expected file the case produces, by file name."""
    try:
        conversion = convert(case)
        requirements = build_requirements(
            conversion.requirements,
            header="extracted from a notebook",
            freeze_versions=False,
            installed={},  # resolve names from the shipped table only: same result anywhere
        )
    except CrunchError as error:
        return {"expected-error.txt": error.message + "\n"}
    found = {
        "expected.py": conversion.script,
        "expected-requirements.txt": requirements.text,
    }
    if conversion.r_requirements:
        found["expected-requirements.r.txt"] = format_requirements(
            conversion.r_requirements, header="extracted from a notebook"
        )
    if conversion.warnings:
        found["expected-warnings.txt"] = "".join(f"{warning}\n" for warning in conversion.warnings)
    if conversion.embedded_files:
        found["expected-embedded.json"] = json.dumps(conversion.embedded_files, indent=1) + "\n"
    return found


EXPECTED_NAMES = (
    "expected.py",
    "expected-requirements.txt",
    "expected-requirements.r.txt",
    "expected-warnings.txt",
    "expected-embedded.json",
    "expected-error.txt",
)


def test_corpus_is_large_enough():
    assert len(CASES) >= 60


@pytest.mark.parametrize("name", CASES)
def test_notebook_converts_as_the_golden_files_say(name: str, monkeypatch: pytest.MonkeyPatch):
    case = CORPUS / name
    oldest = options(case).get("python", "3.10")
    if sys.version_info < tuple(int(part) for part in oldest.split(".")):
        pytest.skip(f"this Python cannot parse the case (needs {oldest})")
    monkeypatch.chdir(case)
    found = outputs(case)
    if UPDATE:
        for file_name in EXPECTED_NAMES:
            (case / file_name).unlink(missing_ok=True)
        for file_name, text in found.items():
            (case / file_name).write_text(text)
    expected = {
        file_name: (case / file_name).read_text()
        for file_name in EXPECTED_NAMES
        if (case / file_name).exists()
    }
    assert found == expected
