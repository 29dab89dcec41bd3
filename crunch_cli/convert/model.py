"""What a conversion takes and gives back."""

from __future__ import annotations

import dataclasses
from typing import Literal

from crunch_cli.requirements import Requirement

# What to do with code that does not parse: stop (`error`); comment out the statements that
# do not parse and keep the rest (`comment`); or comment out the whole cell that does not
# parse (`comment-cell`), for a kernel's history: a cell that failed to parse never ran,
# so none of it defined anything.
BadCells = Literal["error", "comment", "comment-cell"]
BAD_CELLS_CHOICES: tuple[BadCells, ...] = ("error", "comment", "comment-cell")

SCRIPT = "script"  # the cell type of a whole plain script read as one code cell


@dataclasses.dataclass(frozen=True)
class Cell:
    """One notebook cell, its source already a single string without `\\r`."""

    index: int
    id: str
    type: str
    source: str

    def where(self, line: int | None = None) -> str:
        """How messages name the cell: position counted from 1 (as a person counts),
        the notebook's own id when it has one, and the line inside the cell."""
        if self.type == SCRIPT:  # a plain script stands for itself: `main.py, line 3`
            return self.id if line is None else f"{self.id}, line {line}"
        place = f"cell {self.index + 1}"
        if self.id != f"cell_{self.index}":
            place += f" (id {self.id})"
        return place if line is None else f"{place}, line {line}"


@dataclasses.dataclass(frozen=True)
class ConversionWarning:
    """Something that converts but will probably not behave as it did in the notebook."""

    cell_id: str
    cell_index: int
    line: int
    message: str

    def __str__(self) -> str:
        if self.cell_index < 0:  # about the whole notebook
            return self.message
        cell = Cell(self.cell_index, self.cell_id, "code", "")
        return f"{cell.where(self.line)}: {self.message}"


@dataclasses.dataclass(frozen=True)
class Conversion:
    """`requirements` are Python's (requirements.txt); `r_requirements` the R packages
    loaded with rpy2's `importr` (requirements.r.txt)."""

    script: str
    requirements: list[Requirement]
    embedded_files: dict[str, str]
    warnings: list[ConversionWarning]
    r_requirements: list[Requirement]
