"""Cells that start with a cell magic: `%%time` and its kin run Python, `%%bash` does not."""

from __future__ import annotations

import pytest

from crunch_cli.convert import convert_notebook

TRAIN_CELL = (
    "import os\n"
    "def train(X_train, y_train, model_directory_path):\n"
    "    return os.listdir(model_directory_path)\n"
    "train(X, y, 'resources')\n"
)


@pytest.mark.parametrize("magic", ["%%time", "%%capture output", "%%timeit -n 1", "%%prun"])
def test_a_train_function_inside_a_python_cell_magic_is_kept(write_notebook, magic):
    conversion = convert_notebook(write_notebook(f"{magic}\n{TRAIN_CELL}"))

    assert conversion.script == (
        f"#{magic}\n"
        "import os\n"
        "def train(X_train, y_train, model_directory_path):\n"
        "    return os.listdir(model_directory_path)\n"
        "#train(X, y, 'resources')\n"
    )
    assert [requirement.name for requirement in conversion.requirements] == ["os"]


def test_a_train_function_inside_a_time_cell_is_kept(write_notebook):
    notebook = write_notebook(
        "import pandas as pd\n",
        "\n%%time\n!nvidia-smi\ndef train():\n    %time fit()\n    return 1\n",
    )

    assert convert_notebook(notebook).script == (
        "import pandas as pd\n\n\n"
        "#%%time\n#!nvidia-smi\ndef train():\n    pass  #%time fit()\n    return 1\n"
    )


def test_a_time_cell_defining_infer_passes_the_push_check(write_notebook):
    from crunch_cli.push.bundle import check_entry_points

    notebook = write_notebook(
        "%%time\ndef train():\n    pass\n", "%%capture\ndef infer():\n    return 1\n"
    )

    check_entry_points(convert_notebook(notebook).script, "main.py")


@pytest.mark.parametrize(
    "cell",
    [
        "%%bash\necho hello\nimport os\n",
        "%%writefile helper.py\nimport secret\ndef helper():\n    return 1\n",
        "%%html\n<div>def train():</div>\n",
        "%%script python3\ndef train():\n    pass\n",
        "%%sql\nselect 1\n",
    ],
)
def test_a_cell_magic_whose_body_is_not_python_stays_commented_out(write_notebook, cell):
    conversion = convert_notebook(write_notebook("import json\n", cell))

    expected = "".join(f"#{line}\n" for line in cell.rstrip("\n").split("\n"))
    assert conversion.script == f"import json\n\n\n{expected}"
    assert [requirement.name for requirement in conversion.requirements] == ["json"]
    assert conversion.warnings == []


@pytest.mark.parametrize("source", ["%%time", "%%time\n", "\n%%capture\n"])
def test_a_python_cell_magic_with_no_body_converts_to_its_commented_line(write_notebook, source):
    conversion = convert_notebook(write_notebook(source, "import os\n"))

    assert conversion.script == "#" + source.strip() + "\n\n\nimport os\n"
