"""R packages a notebook loads through rpy2: `base = importr("base")`.

Such an assignment is an import of R code: like crunch-convert, the script keeps it (the
functions use the object it binds) and the package becomes an R requirement. Only a plain
string names a package; `importr(name)` with a variable could load anything.
"""

from __future__ import annotations

import ast
import re

# CRAN's rule: letters, digits and dots, starting with a letter, not ending with a dot.
_R_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]|[A-Za-z]")


def r_package(node: ast.stmt) -> str | None:
    """The R package `name = importr("pkg")` loads (also `rpackages.importr(...)`,
    `robjects.packages.importr(...)`, annotated or with `name="pkg"`), None otherwise."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
        return None
    function = value.func
    name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
    if name != "importr":
        return None
    keywords = [keyword.value for keyword in value.keywords if keyword.arg == "name"]
    argument = value.args[0] if value.args else next(iter(keywords), None)
    if not isinstance(argument, ast.Constant) or not isinstance(argument.value, str):
        return None
    return argument.value if _R_PACKAGE.fullmatch(argument.value) else None
