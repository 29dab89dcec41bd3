"""Files written inside the notebook, as markdown cells:

    ---
    file: config/params.yaml
    ---
    learning_rate: 0.1

The header is YAML between two `---` lines; without the closing `---` (or with a blank
line before it) the cell is ordinary markdown, as a horizontal rule followed by text is.
"""

from __future__ import annotations

import posixpath
import re

from crunch_cli.convert.model import Cell
from crunch_cli.errors import ConversionError

DIVIDER = "---"

_DRIVE = re.compile(r"^[A-Za-z]:")


def read_embedded_file(cell: Cell) -> tuple[str, str] | None:
    """(normalised path, content) of an embed cell, None for other markdown. The content is
    every character after the closing `---` line: a file's leading indentation and its
    final newline matter (YAML, Makefiles, scripts), so nothing is trimmed."""
    lines = cell.source.split("\n")
    if lines[0].rstrip() != DIVIDER:
        return None
    header: list[str] = []
    for line in lines[1:]:
        if not line.strip():
            return None
        if line.rstrip() == DIVIDER:
            break
        header.append(line)
    else:
        return None
    content = "\n".join(lines[len(header) + 2 :])
    return _path(cell, _header(cell, "\n".join(header))), content


def _header(cell: Cell, text: str) -> object:
    import yaml

    try:
        header = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            problem += f" (header line {mark.line + 1}, column {mark.column + 1})"
        raise ConversionError(
            f"{cell.where()}: the embedded-file header is not valid YAML: {problem}",
            hint="write the header as `file: path/to/file` between two `---` lines",
        ) from None
    if not isinstance(header, dict):
        raise ConversionError(
            f"{cell.where()}: the embedded-file header must be a mapping, like `file: name.txt`",
            hint="write the header as `file: path/to/file` between two `---` lines",
        )
    return header.get("file")


def _path(cell: Cell, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConversionError(
            f"{cell.where()}: the embedded-file header has no `file` name",
            hint="write the header as `file: path/to/file` between two `---` lines",
        )
    raw = value.strip().replace("\\", "/")
    path = posixpath.normpath(raw)
    if raw.startswith("/") or _DRIVE.match(raw) or path == ".." or path.startswith("../"):
        raise ConversionError(
            f"{cell.where()}: the embedded file `{value}` would be written outside the project",
            hint="use a path relative to the project folder, without `..`",
        )
    if path == ".":
        raise ConversionError(
            f"{cell.where()}: the embedded-file name `{value}` is a folder, not a file",
            hint="name a file, like `file: config/params.yaml`",
        )
    return path
