"""Notebook -> script: the pure core. No file is read or written here except the
notebook itself when a path is given (`crunch_cli.convert.files` writes the results)."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from crunch_cli.convert.code import CodeCell, convert_code_cell
from crunch_cli.convert.embed import read_embedded_file
from crunch_cli.convert.globals import global_warnings
from crunch_cli.convert.magics import comment_magics
from crunch_cli.convert.model import (
    BAD_CELLS_CHOICES,
    SCRIPT,
    BadCells,
    Cell,
    Conversion,
    ConversionWarning,
)
from crunch_cli.convert.notebook import NotebookInput, load_notebook, read_cells
from crunch_cli.convert.salvage import PYTHON, parse_cell
from crunch_cli.errors import ConversionError, RequirementsError
from crunch_cli.requirements import Requirement, merge, r_requirement

CELL_SEPARATOR = "\n\n\n"


def convert_notebook(notebook: NotebookInput, *, bad_cells: BadCells = "error") -> Conversion:
    """Convert a notebook (dict, JSON text or path) into a script, its requirements and
    its embedded files. Raises ConversionError / RequirementsError, never anything else
    for bad input."""
    cells, problems = load_notebook(notebook)
    conversion = _convert(cells, bad_cells)
    notes = [ConversionWarning("", -1, 0, problem) for problem in problems]
    return dataclasses.replace(conversion, warnings=notes + conversion.warnings)


def convert_cells(
    cells: Sequence[Mapping[str, Any] | str], *, bad_cells: BadCells = "error"
) -> Conversion:
    """Like `convert_notebook`, from a bare list of cell dicts or code strings."""
    return _convert(read_cells(cells), bad_cells)


def requirements_from_script(source: str, *, name: str = "main.py") -> list[Requirement]:
    """What a plain script's top-level imports require, with the same version comments
    (`import pandas  # == 2.2`) as a notebook. Markers are honoured as in a cell; `name`
    is how messages call the script."""
    cell = Cell(0, name, SCRIPT, source.replace("\r", ""))
    try:
        tree = ast.parse(cell.source)
    except (SyntaxError, ValueError) as error:
        raise ConversionError(
            f"cannot parse {name}: {_syntax_message(error)}",
            hint=f"fix the syntax error; `python -m py_compile {name}` shows it too",
        ) from None
    return _merge([convert_code_cell(cell, cell.source, tree)])


def _convert(cells: list[Cell], bad_cells: BadCells) -> Conversion:
    if bad_cells not in BAD_CELLS_CHOICES:
        raise ConversionError(
            f"unknown bad-cells handling {bad_cells!r}",
            hint="use " + ", ".join(BAD_CELLS_CHOICES[:-1]) + f" or {BAD_CELLS_CHOICES[-1]}",
        )
    code_cells: list[CodeCell] = []
    chunks: list[tuple[Cell, list[str]]] = []
    warnings: list[ConversionWarning] = []
    embedded: dict[str, tuple[Cell, str, str]] = {}
    for cell in cells:
        if cell.type == "markdown":
            _embed(cell, embedded)
        elif cell.type == "code" and cell.source.strip():
            code = _code_cell(cell, bad_cells)
            code_cells.append(code)
            warnings += code.warnings
            chunks.append((cell, code.lines))
    requirements = _merge(code_cells)
    warnings += global_warnings(code_cells)
    warnings.sort(key=lambda warning: (warning.cell_index, warning.line))
    script = _assemble(chunks)
    return Conversion(
        script,
        requirements,
        {path: content for _, path, content in embedded.values()},
        warnings,
        [r_requirement(package) for package in _r_packages(code_cells)],
    )


def _code_cell(cell: Cell, bad_cells: BadCells) -> CodeCell:
    parsed = parse_cell(comment_magics(cell.source), whole=bad_cells == "comment-cell")
    code = convert_code_cell(cell, parsed.source, parsed.tree, parsed.unparsed)
    if code.lost and bad_cells == "error":
        lost = code.lost[0]
        raise ConversionError(
            f"{cell.where(lost.line)}: cannot parse {lost.what}: {lost.message}",
            hint=f"kept code (imports, functions, classes) must be valid Python {PYTHON}: fix "
            "it, or pass --bad-cells comment to convert it commented out",
        )
    return code


def _syntax_message(error: Exception) -> str:
    if isinstance(error, SyntaxError):
        return error.msg
    return str(error)


def _embed(cell: Cell, embedded: dict[str, tuple[Cell, str, str]]) -> None:
    found = read_embedded_file(cell)
    if found is None:
        return
    path, content = found
    key = path.lower()
    if key in embedded:
        first, first_path, _ = embedded[key]
        raise ConversionError(
            f"{cell.where()}: the embedded file `{path}` is also written by "
            f"{first.where()} (`{first_path}`)",
            hint="give each embedded file its own name",
        )
    embedded[key] = (cell, path, content)


def _merge(cells: Sequence[CodeCell]) -> list[Requirement]:
    merged: dict[str, tuple[Requirement, Cell, int]] = {}
    for code in cells:
        for requirement, line in code.requirements:
            key = requirement.module or requirement.name
            if key not in merged:
                merged[key] = (requirement, code.cell, line)
                continue
            previous, cell, first_line = merged[key]
            try:
                merged[key] = (merge(previous, requirement), cell, first_line)
            except RequirementsError as error:
                raise RequirementsError(
                    f"{error.message} ({cell.where(first_line)} and {code.cell.where(line)})",
                    hint=error.hint,
                ) from None
    return [requirement for requirement, _, _ in merged.values()]


def _r_packages(cells: Sequence[CodeCell]) -> list[str]:
    """Each package once, in the order the notebook loads them."""
    return list(dict.fromkeys(package for code in cells for package in code.r_packages))


def _assemble(chunks: list[tuple[Cell, list[str]]]) -> str:
    """Cells joined by two blank lines, one final newline; the script must compile."""
    parts: list[str] = []
    # (first script line of a part, its cell, the cell line it starts at): to name the
    # cell when the script does not compile.
    origins: list[tuple[int, Cell, int]] = []
    line = 1
    for cell, lines in chunks:
        start = 0
        while start < len(lines) and not lines[start].strip():
            start += 1
        stop = len(lines)
        while stop > start and not lines[stop - 1].strip():
            stop -= 1
        if start == stop:
            continue
        if parts:
            line += 3
        origins.append((line, cell, start + 1))
        parts.append("\n".join(lines[start:stop]))
        line += stop - start - 1
    script = CELL_SEPARATOR.join(parts) + "\n" if parts else ""
    try:
        compile(script, "main.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        number = getattr(error, "lineno", None) or 1
        where = "the script"
        for first, cell, cell_line in origins:
            if first <= number:
                where = cell.where(cell_line + number - first)
        raise ConversionError(
            f"the converted script does not compile: {_syntax_message(error)} ({where})",
            hint="kept code (imports, functions, classes) must be valid in a plain Python file",
        ) from None
    return script
