"""The code a kernel ran (what the notebook API's `submit()` pushes when it cannot find the
notebook file): a cell that failed to parse there never ran, so all of it is commented out,
not only the statements that do not parse, as in a notebook file."""

from __future__ import annotations

import sys
from pathlib import Path

from crunch_cli.convert import convert_cells
from crunch_cli.push.bundle import build_bundle
from crunch_cli.push.upload import CACHE_FILE, UploadCache
from crunch_cli.workspace import ProjectConfig, Workspace

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
HISTORY = [
    "import pandas as pd\n",
    # Run once with a typo: the kernel refused it whole, so this train() was never defined.
    "def train(X_train, y_train, model_directory_path):\n    return 'first'\n\nvalue = (\n",
    "def train(X_train, y_train, model_directory_path):\n    return 'second'\n",
    "def infer(X_test):\n    return X_test\n",
]


def test_a_cell_the_kernel_could_not_parse_is_commented_out_whole():
    conversion = convert_cells(HISTORY, bad_cells="comment-cell")

    assert conversion.script == (
        "import pandas as pd\n\n\n"
        "#def train(X_train, y_train, model_directory_path):\n"
        "#    return 'first'\n"
        "\n"
        "#value = (\n\n\n"
        "def train(X_train, y_train, model_directory_path):\n"
        "    return 'second'\n\n\n"
        "def infer(X_test):\n"
        "    return X_test\n"
    )
    assert [str(warning) for warning in conversion.warnings] == [
        f"cell 2, line 4: cannot parse the cell with Python {PYTHON} ('(' was never closed): "
        "it never ran, so it is commented out whole"
    ]


def test_in_a_notebook_file_the_statements_that_parse_are_kept():
    conversion = convert_cells(HISTORY, bad_cells="comment")

    assert "def train(X_train, y_train, model_directory_path):\n    return 'first'\n" in (
        conversion.script
    )
    assert "#value = (\n" in conversion.script


def test_a_push_of_the_kernels_code_sends_only_what_the_kernel_ran(tmp_path: Path):
    workspace = Workspace(tmp_path)
    workspace.write_config(ProjectConfig("demo-timeseries", "alpha", 1, None))
    cache = UploadCache(workspace.metadata_dir / CACHE_FILE)

    bundle = build_bundle(workspace, notebook=HISTORY, freeze=False, cache=cache)

    sent = {file.path: file.blob.content for file in bundle.files}
    assert sent["main.py"] == convert_cells(HISTORY, bad_cells="comment-cell").script.encode()
    assert b"#    return 'first'\n" in sent["main.py"]
    assert bundle.notes == [
        "the notebook converted to main.py",
        "no requirements.txt: generated one from the imports of your code",
    ]
