"""Cells that do not parse as a whole: keep the statements that do.

A notebook can hold code this interpreter cannot parse: a typo, or syntax newer than it
(`def f[T]()` and `type X = int` need Python 3.12, `except*` 3.11). Only the code the
script keeps has to compile, so such a cell is cut into its top-level statements and each
is parsed alone. Those that fail are commented out where they stand (same number of
lines, so messages still point at the user's lines); the rest converts as usual.

Code a kernel ran is the exception (`whole`): a cell that failed to parse there never ran
and defined nothing, so the whole cell is commented out.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
from collections.abc import Iterator

from crunch_cli.convert.magics import Scanner

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # the parser's version, for messages

# Lines at the left margin that go on with the statement above instead of starting one.
_CLAUSES = re.compile(r"(else|elif|except|finally)\b")

# Lines that start a definition or an import. A statement that fails is cut again at
# them, ignoring strings and brackets: an unclosed `(` above a `def train()` must not
# take the function down with it.
_HEADS = re.compile(r"@|(async\s+)?def\s|class\s|import\s|from\s")

_DEFINITION = re.compile(r"(?:async\s+)?(?P<kind>def|class)\s+(?P<name>\w+)")


@dataclasses.dataclass(frozen=True)
class Unparsed:
    """A top-level statement the parser refused, lines `start` to `end` (from 1)."""

    start: int
    end: int
    line: int  # where the parser stopped
    message: str
    # What keeping it would have brought: "function `train`", "class `Model`", "an
    # import"; None for any other statement, which is commented out anyway.
    defines: str | None
    # The whole cell, commented out because a kernel never ran it (`parse_cell(whole=True)`).
    cell: bool = False

    @property
    def what(self) -> str:
        if self.cell:
            return "the cell"
        return self.defines or "the statement"


@dataclasses.dataclass(frozen=True)
class ParsedCell:
    """`source` is the cell with every `unparsed` statement commented out; `tree` its AST."""

    source: str
    tree: ast.Module
    unparsed: list[Unparsed]


def parse_cell(source: str, *, whole: bool = False) -> ParsedCell:
    """`source` parsed; what does not parse is commented out: the statements that do not
    (default), or the whole cell (`whole`, for a cell a kernel failed to parse)."""
    try:
        return ParsedCell(source, ast.parse(source), [])
    except (SyntaxError, ValueError):
        pass
    lines = source.split("\n")
    if whole:
        failed = _failure(lines, 0, len(lines))
        assert failed is not None  # the cell as a whole failed above
        cell = dataclasses.replace(failed, defines=None, cell=True)
        return ParsedCell(_mask(lines, [cell]), ast.Module(body=[], type_ignores=[]), [cell])
    unparsed = [
        failure
        for first, last in _spans(lines, 0, len(lines), cut_at_heads=False)
        for failure in _failures(lines, first, last)
    ]
    masked = _mask(lines, unparsed)
    try:
        return ParsedCell(masked, ast.parse(masked), unparsed)
    except (SyntaxError, ValueError):
        # The pieces parse alone but not together: give up on the cell as a whole.
        failure = _failure(lines, 0, len(lines))
        assert failure is not None  # the cell as a whole failed above
        return ParsedCell(_mask(lines, [failure]), ast.Module(body=[], type_ignores=[]), [failure])


def _failures(lines: list[str], first: int, last: int) -> Iterator[Unparsed]:
    failure = _failure(lines, first, last)
    if failure is None:
        return
    pieces = list(_spans(lines, first, last, cut_at_heads=True))
    if len(pieces) == 1:
        yield failure
        return
    for start, end in pieces:
        piece = _failure(lines, start, end)
        if piece is not None:
            yield piece


def _failure(lines: list[str], first: int, last: int) -> Unparsed | None:
    """Why lines[first:last] do not parse, or None when they do."""
    try:
        ast.parse("\n".join(lines[first:last]))
    except SyntaxError as error:
        line, message = error.lineno or 1, error.msg
    except ValueError as error:  # a null character
        line, message = 1, str(error)
    else:
        return None
    return Unparsed(first + 1, last, min(first + line, last), message, _defines(lines[first:last]))


def _defines(lines: list[str]) -> str | None:
    for line in lines:
        if line.startswith("@") or not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _DEFINITION.match(line)
        if match is not None:
            kind = "function" if match.group("kind") == "def" else "class"
            return f"{kind} `{match.group('name')}`"
        return "an import" if re.match(r"(import|from)\s", line) else None
    return None


def _spans(
    lines: list[str], first: int, last: int, *, cut_at_heads: bool
) -> Iterator[tuple[int, int]]:
    """[start, end) line ranges of the top-level statements in lines[first:last].

    A statement starts at a line with no indentation, outside any string, bracket or
    continuation; its indented body, `else:`/`except:` clauses and comment lines go with
    it, and decorators with the definition they decorate.
    """
    scanner = Scanner()
    start: int | None = None
    end = first
    decorating = False
    for number in range(first, last):
        line = lines[number]
        if cut_at_heads and _HEADS.match(line):
            scanner = Scanner()
        starts = scanner.at_statement_start
        scanner.scan(line)
        stripped = line.strip()
        if starts and (not stripped or stripped.startswith("#")):
            continue  # a blank or comment line belongs to no statement on its own
        if (
            start is not None
            and starts
            and not line[:1].isspace()
            and not _CLAUSES.match(line)
            and not decorating
        ):
            yield start, end
            start = None
        if start is None:
            start = number
        if starts and not line[:1].isspace():
            decorating = line.startswith("@") or (decorating and not _DEFINITION.match(line))
        end = number + 1
    if start is not None:
        yield start, end


def _mask(lines: list[str], unparsed: list[Unparsed]) -> str:
    masked = list(lines)
    for statement in unparsed:
        for number in range(statement.start - 1, statement.end):
            if lines[number].strip():
                masked[number] = f"#{lines[number]}"
    return "\n".join(masked)
