"""Read notebooks (nbformat) and cell lists into `Cell`s."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crunch_cli.convert.model import Cell
from crunch_cli.errors import ConversionError

NotebookInput = Mapping[str, Any] | str | Path


def load_notebook(notebook: NotebookInput) -> tuple[list[Cell], list[str]]:
    """Cells of a notebook given as a parsed dict, JSON text, or a path.

    A `str` that does not look like JSON is taken as a path. Returns the cells and the
    schema problems found: a notebook that breaks the nbformat schema but still has
    readable cells is converted (with a warning) rather than refused, since Jupyter
    itself opens many such files.
    """
    import nbformat

    origin = "the notebook"
    if isinstance(notebook, Path) or (
        isinstance(notebook, str) and not notebook.lstrip().startswith("{")
    ):
        path = Path(notebook)
        origin = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConversionError(
                f"cannot read {origin}: {getattr(error, 'strerror', None) or error}",
                hint="check the notebook path",
            ) from None
        notebook = _parse_json(text, origin)
    elif isinstance(notebook, str):
        notebook = _parse_json(notebook, origin)
    if not isinstance(notebook, Mapping) or not isinstance(
        notebook.get("cells", notebook.get("worksheets")), list
    ):
        raise ConversionError(
            f"{origin} is not a Jupyter notebook (no list of cells)",
            hint="pass an .ipynb file saved by Jupyter",
        )
    problems = []
    node = nbformat.from_dict(notebook)  # type: ignore[no-untyped-call]  # nbformat is unannotated
    try:
        if node.get("nbformat", 4) < 4:
            node = nbformat.convert(node, 4)  # type: ignore[no-untyped-call]  # unannotated too
        nbformat.validate(node)
    except nbformat.ValidationError as error:
        problems.append(
            f"{origin} does not follow the notebook format ({error.message}); converted anyway"
        )
    except Exception as error:  # nbformat raises assorted errors on odd input
        problems.append(f"{origin} could not be validated ({error}); converted anyway")
    return read_cells(node.get("cells", [])), problems


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise ConversionError(
            f"{origin} is not valid JSON: {error}",
            hint="pass an .ipynb file saved by Jupyter",
        ) from None


def read_cells(cells: Sequence[Mapping[str, Any] | str]) -> list[Cell]:
    """Cells from notebook cell dicts, or bare strings meaning code cells.

    Ids: the nbformat >= 4.5 `id`, else `metadata.id`, else `cell_<index>`.
    """
    result = []
    for index, cell in enumerate(cells):
        if isinstance(cell, str):
            result.append(Cell(index, f"cell_{index}", "code", _text(cell)))
            continue
        if not isinstance(cell, Mapping):
            raise ConversionError(
                f"cell {index + 1} is not an object", hint="pass an .ipynb file saved by Jupyter"
            )
        metadata = cell.get("metadata")
        cell_id = cell.get("id") or (metadata.get("id") if isinstance(metadata, Mapping) else None)
        result.append(
            Cell(
                index,
                str(cell_id or f"cell_{index}"),
                str(cell.get("cell_type", "code")),
                _text(cell.get("source", "")),
            )
        )
    return result


def _text(source: object) -> str:
    if isinstance(source, list):
        source = "".join(str(part) for part in source)
    elif not isinstance(source, str):
        source = ""
    return source.replace("\r", "")
