"""`crunch whitelist validate`: what push would refuse, said as one error with a hint that
names the file the requirements were read from."""

from __future__ import annotations

import json
from pathlib import Path

SEARCH_HINT = (
    "`crunch whitelist search NAME` lists what is allowed, "
    "`crunch whitelist request --name NAME` asks for a library"
)


def notebook(*sources: str) -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
         "execution_count": None}
        for source in sources
    ]  # fmt: skip
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})


def validate(crunch, hub, *args: str):
    return crunch("--api-base-url", hub.url, "whitelist", "validate", *args)


def test_validate_names_requirements_txt_and_what_it_refuses(hub, crunch, tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("pandas\nnot-on-the-list\n")

    result = validate(crunch, hub)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: requirements.txt: not allowed on this competition: not-on-the-list",
        f"hint: remove it from requirements.txt; {SEARCH_HINT}",
    ]


def test_a_line_that_does_not_parse_is_named_in_the_file_it_is_in(hub, crunch, tmp_path: Path):
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "dev.txt").write_text("pandas\n--index-url https://example.org\n")

    result = validate(crunch, hub, "extra/dev.txt")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: extra/dev.txt line 2: pip options like `--index-url` are not allowed",
        "hint: list one distribution per line, like `pandas==2.2`",
    ]


def test_without_requirements_txt_the_notebooks_imports_are_checked(hub, crunch, tmp_path: Path):
    (tmp_path / "main.ipynb").write_text(
        notebook("import pandas\nimport sklearn\n", "import not_on_the_list\n")
    )

    result = validate(crunch, hub)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: main.ipynb: not allowed on this competition: not_on_the_list",
        f"hint: remove it from main.ipynb; {SEARCH_HINT}",
    ]


def test_a_script_whose_imports_are_all_allowed_passes(hub, crunch, tmp_path: Path):
    (tmp_path / "model.py").write_text("import os\nimport pandas\nimport sklearn\n")

    result = validate(crunch, hub, "model.py")

    assert result.exit_code == 0, result.output
    assert result.stdout == "model.py: all 2 requirements are allowed\n"


def test_a_notebook_that_does_not_convert_is_named(hub, crunch, tmp_path: Path):
    (tmp_path / "main.ipynb").write_text(
        notebook("import pandas  # == 1.0\n", "import pandas  # == 2.0\n")
    )

    result = validate(crunch, hub)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: main.ipynb: inconsistent versions for pandas: `pandas==1.0` and `pandas==2.0` "
        "(cell 1, line 1 and cell 2, line 1)",
        "hint: give every import of pandas the same version comment, or only one of them",
    ]


def test_a_missing_file_is_one_error(hub, crunch, tmp_path: Path):
    named = validate(crunch, hub, "nothing.txt")
    nothing = validate(crunch, hub)

    assert named.exit_code == nothing.exit_code == 1
    assert named.stderr.splitlines() == [
        "error: cannot read nothing.txt: No such file or directory",
        "hint: name a requirements.txt, a script or a notebook: `crunch whitelist validate PATH`",
    ]
    assert nothing.stderr.splitlines() == [
        f"error: no requirements.txt, main.py or main.ipynb in {tmp_path}",
        "hint: run it in your workspace, or name the file: `crunch whitelist validate PATH`",
    ]
