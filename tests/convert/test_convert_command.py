"""`crunch convert` as a user runs it: files written, warnings shown, nothing clobbered."""

from __future__ import annotations

import json
import socket
import sys
from importlib.metadata import version

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def notebook(*cells: str | dict) -> str:
    """An nbformat 4.5 notebook: strings are code cells, dicts are taken as they are."""
    return json.dumps(
        {
            "cells": [
                cell
                if isinstance(cell, dict)
                else {
                    "cell_type": "code",
                    "id": f"c{index}",
                    "metadata": {},
                    "execution_count": None,
                    "outputs": [],
                    "source": cell,
                }
                for index, cell in enumerate(cells)
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "id": "md", "metadata": {}, "source": source}


MODEL = notebook(
    "%pip install typer\nimport typer\nimport os\n",
    "THRESHOLD = 0.5\n",
    "def infer(X):\n    return X > THRESHOLD\n",
)


def test_convert_writes_the_script_and_reports_warnings_with_cell_and_line(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(MODEL)

    result = crunch("convert", "model.ipynb")

    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote main.py\n"
    assert result.stderr == (
        "warning: cell 3 (id c2), line 2: function `infer` reads the global variable "
        "`THRESHOLD`, but its assignment (cell 2 (id c1), line 1) is commented out: keep it "
        "with `# @crunch/keep:on`, or set it inside the function\n"
    )
    assert (tmp_path / "main.py").read_text() == (
        "#%pip install typer\nimport typer\nimport os\n\n\n#THRESHOLD = 0.5\n\n\n"
        "def infer(X):\n    return X > THRESHOLD\n"
    )
    assert not (tmp_path / "requirements.txt").exists()


def test_convert_writes_the_script_name_given(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os"))

    result = crunch("convert", "model.ipynb", "submission.py")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "submission.py").read_text() == "import os\n"


def test_convert_refuses_to_overwrite_an_existing_script_without_force(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os"))
    (tmp_path / "main.py").write_text("mine\n")

    result = crunch("convert", "model.ipynb")

    assert result.exit_code == 1
    assert result.stderr == "error: not overwriting main.py\nhint: pass --force to overwrite\n"
    assert (tmp_path / "main.py").read_text() == "mine\n"


def test_convert_overwrites_with_force(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os"))
    (tmp_path / "main.py").write_text("mine\n")

    result = crunch("convert", "model.ipynb", "--force")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "main.py").read_text() == "import os\n"


def test_convert_of_a_bad_cell_fails_naming_it_and_writes_nothing(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os", "def broken(:\n    pass\n"))

    result = crunch("convert", "model.ipynb", "--write-requirements")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: cell 2 (id c1), line 1: cannot parse function `broken`: invalid syntax\n"
        f"hint: kept code (imports, functions, classes) must be valid Python {PYTHON}: fix it, "
        "or pass --bad-cells comment to convert it commented out\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.ipynb"]


def test_convert_with_bad_cells_comment_comments_the_cell_out_and_goes_on(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os", "def broken(:\n    pass\n"))

    result = crunch("convert", "model.ipynb", "--bad-cells", "comment")

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: cell 2 (id c1), line 1: cannot parse function `broken` with Python "
        f"{PYTHON} (invalid syntax): it is commented out, so the script lacks it\n"
    )
    assert (tmp_path / "main.py").read_text() == "import os\n\n\n#def broken(:\n#    pass\n"


def test_convert_rejects_an_unknown_bad_cells_choice(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os"))

    result = crunch("convert", "model.ipynb", "--bad-cells", "ignore")

    assert result.exit_code == 2
    assert "choose error or comment" in result.stderr
    assert not (tmp_path / "main.py").exists()


def test_convert_freezes_requirements_and_keeps_the_original(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(MODEL)

    result = crunch("convert", "model.ipynb", "--write-requirements")

    assert result.exit_code == 0, result.output
    assert (
        result.stdout == "wrote main.py\nwrote requirements.txt\nwrote requirements.original.txt\n"
    )
    assert (tmp_path / "requirements.txt").read_text() == (
        "# frozen from local site-packages\n\n"
        f"## third-party\ntyper=={version('typer')}\n\n## standard\n#os\n"
    )
    assert (tmp_path / "requirements.original.txt").read_text() == (
        "# extracted from a notebook\n\n## third-party\ntyper\n\n## standard\n#os\n"
    )


def test_convert_with_no_freeze_writes_requirements_as_imported(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import typer  # >= 0.20\nimport sklearn"))

    result = crunch("convert", "model.ipynb", "--write-requirements", "--no-freeze")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "requirements.txt").read_text() == (
        "# extracted from a notebook\n\nscikit-learn  # alias of sklearn\ntyper>=0.20\n"
    )
    assert not (tmp_path / "requirements.original.txt").exists()


def test_convert_writes_embedded_files_beside_the_script(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(
        notebook(markdown("---\nfile: config/params.yaml\n---\nrate: 0.1\n"), "import os")
    )

    result = crunch("convert", "model.ipynb", "out/main.py", "--write-embedded-files")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "config" / "params.yaml").read_text() == "rate: 0.1\n"
    assert (tmp_path / "out" / "main.py").read_text() == "import os\n"


def test_convert_ignores_embedded_files_unless_asked(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook(markdown("---\nfile: a.txt\n---\nhello")))

    result = crunch("convert", "model.ipynb")

    assert result.exit_code == 0, result.output
    assert not (tmp_path / "a.txt").exists()


def test_an_existing_embedded_file_stops_the_whole_conversion(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(
        notebook(markdown("---\nfile: a.txt\n---\nnew"), "import os")
    )
    (tmp_path / "a.txt").write_text("old")

    result = crunch("convert", "model.ipynb", "--write-embedded-files")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: not overwriting a.txt\n")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert not (tmp_path / "main.py").exists()


def test_convert_of_a_missing_notebook_says_so(crunch):
    result = crunch("convert", "missing.ipynb")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: cannot read missing.ipynb: No such file or directory\n"
        "hint: check the notebook path\n"
    )


def test_convert_of_a_file_that_is_not_json_says_so(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text("print('not a notebook')")

    result = crunch("convert", "model.ipynb")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: model.ipynb is not valid JSON: ")
    assert not (tmp_path / "main.py").exists()


def test_convert_will_not_write_the_script_over_the_notebook(crunch, tmp_path):
    (tmp_path / "model.ipynb").write_text(notebook("import os"))

    result = crunch("convert", "model.ipynb", "model.ipynb")

    assert result.exit_code == 1
    assert "would overwrite the notebook" in result.stderr
    assert json.loads((tmp_path / "model.ipynb").read_text())["nbformat"] == 4


def test_convert_names_distributions_from_the_hub_whitelist(crunch, tmp_path, hub):
    (tmp_path / "model.ipynb").write_text(notebook("import yaml\nimport sklearn\nimport json"))

    result = crunch(
        "--api-base-url", hub.url, "convert", "model.ipynb", "--write-requirements", "--no-freeze"
    )

    assert result.exit_code == 0, result.output
    # The hub spells it `pyyaml`; offline the shipped table says `PyYAML`.
    assert (tmp_path / "requirements.txt").read_text() == (
        "# extracted from a notebook\n\n## third-party\npyyaml  # alias of yaml\n"
        "scikit-learn  # alias of sklearn\n\n## standard\n#json\n"
    )


def test_convert_reports_an_alias_that_several_whitelisted_libraries_claim(crunch, tmp_path, hub):
    (tmp_path / "model.ipynb").write_text(notebook("import cv2"))

    result = crunch("--api-base-url", hub.url, "convert", "model.ipynb", "--write-requirements")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: `import cv2` matches several whitelisted libraries: opencv-python, "
        "opencv-python-headless\n"
        "hint: name the one you want on the import line: "
        "`import cv2  # opencv-python @latest`\n"
    )
    assert not (tmp_path / "main.py").exists()


def test_convert_resolves_names_locally_when_the_hub_does_not_answer(crunch, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (tmp_path / "model.ipynb").write_text(notebook("import sklearn"))

    result = crunch(
        "--api-base-url",
        f"http://127.0.0.1:{port}",
        "convert",
        "model.ipynb",
        "--write-requirements",
        "--no-freeze",
    )

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"note: cannot reach the hub at http://127.0.0.1:{port}: connection refused; "
        "distribution names were resolved locally\n"
    )
    assert "scikit-learn  # alias of sklearn" in (tmp_path / "requirements.txt").read_text()
