"""A notebook file as Jupyter saves it, for the tests that convert what users write."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

WriteNotebook = Callable[..., Path]


@pytest.fixture
def write_notebook(tmp_path: Path) -> WriteNotebook:
    """`write_notebook(*cells, name="main.ipynb")`: strings are code cells, other cells
    (`nbformat.v4.new_markdown_cell(...)`) go in as they are. Cell ids are c1, c2... so
    messages are predictable."""

    def write(*cells: str | NotebookNode, name: str = "main.ipynb") -> Path:
        nodes = [new_code_cell(cell) if isinstance(cell, str) else cell for cell in cells]
        for number, node in enumerate(nodes, start=1):
            node.id = f"c{number}"
        path = tmp_path / name
        nbformat.write(new_notebook(cells=nodes), path)
        return path

    return write
