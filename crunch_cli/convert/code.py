"""One code cell: what to keep, what to comment out, and what it imports.

The platform imports the script to find `train()` and `infer()`, so only what a module
needs at import time survives: imports (R's through rpy2's `importr` too), function and
class definitions, comments. Every other top-level statement (loading data, training,
plotting...) is commented out line by line, which keeps it readable in the script without
running it.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
from collections.abc import Iterator, Sequence

from crunch_cli.convert.model import Cell, ConversionWarning
from crunch_cli.convert.rpackages import r_package
from crunch_cli.convert.salvage import PYTHON, Unparsed
from crunch_cli.errors import RequirementsError
from crunch_cli.requirements import Requirement, is_standard, parse_import_comment


class Mode(enum.Enum):
    NECESSARY = "necessary"
    EVERYTHING = "everything"
    NOTHING = "nothing"


MARKERS = {
    "@crunch/keep:on": Mode.EVERYTHING,
    "@crunch/keep:off": Mode.NECESSARY,
    "@crunch/keep:none": Mode.NOTHING,
}

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_SCOPES = (*_DEFINITIONS, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclasses.dataclass(frozen=True)
class Binding:
    """A module-level name set by a statement that is kept or commented out."""

    name: str
    kept: bool
    cell: Cell
    line: int


@dataclasses.dataclass
class CodeCell:
    """A converted code cell: `source` is what was parsed (magics and unparsable
    statements already commented), `lines` the cell as it goes into the script;
    requirements come with their line, R packages (`importr("pkg")`) by name. `lost` are
    the unparsable statements that would have been kept: the script lacks them."""

    cell: Cell
    source: str
    lines: list[str]
    kept: list[ast.stmt] = dataclasses.field(default_factory=list)
    requirements: list[tuple[Requirement, int]] = dataclasses.field(default_factory=list)
    r_packages: list[str] = dataclasses.field(default_factory=list)
    bindings: list[Binding] = dataclasses.field(default_factory=list)
    warnings: list[ConversionWarning] = dataclasses.field(default_factory=list)
    lost: list[Unparsed] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Statement:
    node: ast.stmt
    start: int  # first line, decorators included (1-based)
    end: int
    kept: bool = False


def convert_code_cell(
    cell: Cell, source: str, tree: ast.Module, unparsed: Sequence[Unparsed] = ()
) -> CodeCell:
    """Decide and render each top-level statement of a cell that parsed as `tree`;
    `unparsed` statements are already commented out in `source`."""
    lines = source.split("\n")
    statements = [
        _Statement(node, first_line(node), node.end_lineno or node.lineno) for node in tree.body
    ]
    spans = [(s.start, s.end) for s in statements] + [(u.start, u.end) for u in unparsed]
    markers = _markers(lines, spans)
    for statement in statements:
        statement.kept = _keeps(_mode_at(markers, statement.start), _is_necessary(statement.node))
    result = CodeCell(cell, source, _render(lines, statements))
    for statement in statements:
        _collect(result, statement, lines)
    for failure in unparsed:
        kept = _keeps(_mode_at(markers, failure.start), failure.defines is not None)
        if kept:
            result.lost.append(failure)
        result.warnings.append(_unparsed_warning(cell, failure, kept=kept))
    return result


def _unparsed_warning(cell: Cell, failure: Unparsed, *, kept: bool) -> ConversionWarning:
    if failure.cell:
        outcome = "it never ran, so it is commented out whole"
    elif kept:
        outcome = "it is commented out, so the script lacks it"
    else:
        outcome = "it is commented out"
    return ConversionWarning(
        cell.id,
        cell.index,
        failure.line,
        f"cannot parse {failure.what} with Python {PYTHON} ({failure.message}): {outcome}",
    )


def first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(decorator.lineno for decorator in decorators)])


def _markers(lines: list[str], spans: Sequence[tuple[int, int]]) -> dict[int, Mode]:
    """Marker comments, by line: only whole comment lines between statements (`spans`,
    first and last lines) count, so a marker quoted inside a string or a function body
    changes nothing."""
    inside = {line for start, end in spans for line in range(start, end + 1)}
    markers = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if number not in inside and stripped.startswith("#"):
            mode = MARKERS.get(stripped.strip("# \t"))
            if mode is not None:
                markers[number] = mode
    return markers


def _mode_at(markers: dict[int, Mode], line: int) -> Mode:
    """The mode the last marker above `line` set (markers hold for the rest of the cell)."""
    above = [number for number in markers if number < line]
    return markers[max(above)] if above else Mode.NECESSARY


def _keeps(mode: Mode, necessary: bool) -> bool:
    return mode is Mode.EVERYTHING or (mode is Mode.NECESSARY and necessary)


def _is_necessary(node: ast.stmt) -> bool:
    return isinstance(node, (*_DEFINITIONS, *_IMPORTS)) or r_package(node) is not None


def _groups(statements: list[_Statement]) -> Iterator[list[_Statement]]:
    """Statements sharing lines (`import os; x = 1`) form one group."""
    group: list[_Statement] = []
    for statement in statements:
        if group and statement.start == group[-1].end:
            group.append(statement)
            continue
        if group:
            yield group
        group = [statement]
    if group:
        yield group


def _render(lines: list[str], statements: list[_Statement]) -> list[str]:
    output: list[str] = []
    position = 0  # lines[:position] are done
    for group in _groups(statements):
        start, end = group[0].start, group[-1].end
        if len(group) == 1 and not group[0].kept:
            end = _footer_end(lines, group[0])
        output += lines[position : start - 1]
        block = lines[start - 1 : end]
        if all(s.kept for s in group):
            output += block
        elif all(not s.kept for s in group):
            output += [f"#{line}" for line in block]
        else:
            output += _render_mixed(lines, group)
        position = end
    output += lines[position:]
    return output


def _footer_end(lines: list[str], statement: _Statement) -> int:
    """A commented block also takes the comment lines indented under it that follow its
    last statement (`if x:\\n    y = 1\\n    # later`), so they do not dangle uncommented."""
    node = statement.node
    children = [
        *getattr(node, "body", ()),
        *getattr(node, "orelse", ()),
        *getattr(node, "finalbody", ()),
        *(child for clause in getattr(node, "handlers", ()) for child in clause.body),
        *(child for clause in getattr(node, "cases", ()) for child in clause.body),
    ]
    if not children:
        return statement.end
    indent = max(children, key=lambda child: child.lineno).col_offset
    end = statement.end
    for number in range(statement.end, len(lines)):
        line = lines[number]
        stripped = line.lstrip()
        if not stripped:
            continue
        if not stripped.startswith("#") or len(line) - len(stripped) < indent:
            break
        end = number + 1
    return end


def _render_mixed(lines: list[str], group: list[_Statement]) -> list[str]:
    """`import os; x = 1` -> `import os; #x = 1`. A commented statement before a kept one
    cannot share its line (the comment would swallow it), so the line is split there."""
    text = ""
    for index, statement in enumerate(group):
        piece = _slice(
            lines, statement.node, group[index + 1].node if index + 1 < len(group) else None
        )
        if statement.kept:
            if index and not group[index - 1].kept:
                text = text.rstrip(" \t") + "\n"
            text += piece
        else:
            text += "#" + piece.replace("\n", "\n#")
    return text.split("\n")


def _slice(lines: list[str], node: ast.stmt, following: ast.stmt | None) -> str:
    """Source from `node` to the start of `following` (or to the end of the node's last
    line, its trailing comment included). ast columns count UTF-8 bytes."""
    start_line, start_col = node.lineno - 1, node.col_offset
    if following is None:
        end_line = (node.end_lineno or node.lineno) - 1
        end_col = len(lines[end_line].encode())
    else:
        end_line, end_col = following.lineno - 1, following.col_offset
    chunk = [line.encode() for line in lines[start_line : end_line + 1]]
    if start_line == end_line:
        return chunk[0][start_col:end_col].decode()
    chunk[0] = chunk[0][start_col:]
    chunk[-1] = chunk[-1][:end_col]
    return b"\n".join(chunk).decode()


def _collect(result: CodeCell, statement: _Statement, lines: list[str]) -> None:
    node = statement.node
    if statement.kept:
        result.kept.append(node)
        if isinstance(node, _IMPORTS):
            result.requirements += _requirements(result.cell, node, lines)
        package = r_package(node)
        if package is not None:
            result.r_packages.append(package)
        result.warnings += _nested_imports(result.cell, node)
    for name, line in _module_bindings(node):
        result.bindings.append(Binding(name, statement.kept, result.cell, line))


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """Top-level modules an import needs (`import a.b.c` -> a); relative imports none."""
    if isinstance(node, ast.ImportFrom):
        return [] if node.level or not node.module else [node.module.split(".")[0]]
    return list(dict.fromkeys(alias.name.split(".")[0] for alias in node.names))


def _requirements(
    cell: Cell, node: ast.Import | ast.ImportFrom, lines: list[str]
) -> list[tuple[Requirement, int]]:
    modules = imported_modules(node)
    if not modules:
        return []
    line = node.end_lineno or node.lineno
    tail = lines[line - 1].encode()[node.end_col_offset or 0 :].decode().strip()
    try:
        comment = parse_import_comment(tail) if tail.startswith("#") else None
    except RequirementsError as error:
        raise RequirementsError(f"{cell.where(line)}: {error.message}", hint=error.hint) from None
    if comment is not None and comment.ignore:
        return []
    return [
        (
            Requirement(
                name=(comment.name if comment and comment.name else module),
                extras=comment.extras if comment else (),
                specifier=comment.specifier if comment else "",
                module=module,
                explicit=bool(comment and comment.name),
            ),
            line,
        )
        for module in modules
    ]


def _nested_imports(cell: Cell, node: ast.stmt) -> list[ConversionWarning]:
    """Imports run only when their block runs: they are not requirements, which is
    worth saying when the module is not in the standard library."""
    warnings = []
    for child in ast.walk(node):
        if child is node or not isinstance(child, _IMPORTS):
            continue
        for module in imported_modules(child):
            if is_standard(module):
                continue
            warnings.append(
                ConversionWarning(
                    cell.id,
                    cell.index,
                    child.lineno,
                    f"`{module}` is imported inside {describe(node)}, so it is not added to "
                    "the requirements: import it at the top level of a cell",
                )
            )
    return warnings


def describe(node: ast.stmt) -> str:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"function `{node.name}`"
    if isinstance(node, ast.ClassDef):
        return f"class `{node.name}`"
    keyword = type(node).__name__.lower().removeprefix("async")
    return f"a `{'try' if keyword.startswith('try') else keyword}` statement"


def _module_bindings(node: ast.stmt) -> Iterator[tuple[str, int]]:
    """Names a top-level statement binds in the module namespace (not in the functions,
    classes, lambdas or comprehensions it contains)."""
    if isinstance(node, _DEFINITIONS):
        yield node.name, node.lineno
        return
    if isinstance(node, _IMPORTS):
        for alias in node.names:
            if alias.name != "*":
                yield (alias.asname or alias.name.split(".")[0]), node.lineno
        return
    pending: list[ast.AST] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            yield current.id, current.lineno
        for child in ast.iter_child_nodes(current):
            if isinstance(child, _DEFINITIONS):
                yield child.name, child.lineno
            elif not isinstance(child, _SCOPES):
                pending.append(child)
