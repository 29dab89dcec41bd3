"""The most common cause of "works in the notebook, fails on the platform": a kept
function reads a global variable whose assignment was commented out.

Scopes come from `symtable`, the compiler's own analysis, so a name is reported only when
the function really looks it up in the module namespace (not a parameter, local, or a
variable of an enclosing function).
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterator, Sequence

from crunch_cli.convert.code import Binding, CodeCell, describe, first_line
from crunch_cli.convert.model import ConversionWarning

# Lambdas and comprehensions written at the top level run at import time, when the
# missing name fails loudly on its own; only code that runs later hides the problem.
_TOP_LEVEL_EXPRESSIONS = {"lambda", "listcomp", "setcomp", "dictcomp", "genexpr"}


def global_warnings(cells: Sequence[CodeCell]) -> list[ConversionWarning]:
    commented: dict[str, Binding] = {}
    for cell in cells:
        for binding in cell.bindings:
            if binding.kept:
                commented.pop(binding.name, None)
            else:
                commented[binding.name] = binding
    if not commented:
        return []
    warnings = []
    for cell in cells:
        if not any(_has_scopes(node) for node in cell.kept):
            continue
        try:
            module = symtable.symtable(cell.source, "cell", "exec")
        except SyntaxError:
            continue  # the check of the whole script reports it
        for node in cell.kept:
            start, end = first_line(node), node.end_lineno or node.lineno
            names: set[str] = set()
            for table in module.get_children():
                if (
                    start <= table.get_lineno() <= end
                    and table.get_name() not in _TOP_LEVEL_EXPRESSIONS
                ):
                    names.update(_global_reads(table))
            for name in sorted(names & commented.keys()):
                line = _first_read(node, name)
                where = commented[name].cell.where(commented[name].line)
                warnings.append(
                    ConversionWarning(
                        cell.cell.id,
                        cell.cell.index,
                        line,
                        f"{describe(node)} reads the global variable `{name}`, but its "
                        f"assignment ({where}) is commented out: keep it with "
                        "`# @crunch/keep:on`, or set it inside the function",
                    )
                )
    return warnings


def _has_scopes(node: ast.stmt) -> bool:
    return any(
        isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        for child in ast.walk(node)
    )


def _global_reads(table: symtable.SymbolTable) -> Iterator[str]:
    for symbol in table.get_symbols():
        if symbol.is_referenced() and symbol.is_global() and not symbol.is_assigned():
            yield symbol.get_name()
    for child in table.get_children():
        yield from _global_reads(child)


def _first_read(node: ast.stmt, name: str) -> int:
    return min(
        (
            child.lineno
            for child in ast.walk(node)
            if isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load)
        ),
        default=node.lineno,
    )
