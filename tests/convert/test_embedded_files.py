"""Markdown "embed file" cells: the file written is exactly what the cell holds."""

from __future__ import annotations

import pytest
from nbformat.v4 import new_markdown_cell

from crunch_cli.convert import convert_notebook


@pytest.mark.parametrize(
    "content",
    [
        "learning_rate: 0.1\ndepth: 3\n",  # the final newline a text file ends with
        "    indented first line\nsecond\n",  # leading indentation
        "model:\n  layers:\n    - 64\n\n\n",  # blank lines at the end
        "\nafter a blank line",  # no final newline, as Jupyter saves a cell typed so
        "",
    ],
)
def test_an_embedded_file_keeps_its_content_exactly(write_notebook, content):
    notebook = write_notebook(new_markdown_cell(f"---\nfile: config.yaml\n---\n{content}"))

    assert convert_notebook(notebook).embedded_files == {"config.yaml": content}


def test_convert_writes_an_embedded_script_byte_for_byte(crunch, write_notebook, tmp_path):
    script = "#!/bin/sh\n\tset -e\n\techo ready\n"
    write_notebook(
        new_markdown_cell(f"---\nfile: tools/run.sh\n---\n{script}"),
        "import os\n",
        name="model.ipynb",
    )

    result = crunch("convert", "model.ipynb", "--embedded-files")

    assert result.exit_code == 0, result.output
    assert (tmp_path / "tools" / "run.sh").read_bytes() == script.encode()
