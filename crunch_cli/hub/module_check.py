"""Check a folder of competition modules before the hub takes it, without running it.

The modules follow the protocol of crunch-cli 13.0.1 (`runner.py`, `scoring.py`, ...) and
are the organizer's code: the hub never imports or executes them. Parsing a file is enough
to prove that it compiles and to see the names its top level binds, which is where
crunch-cli looks its functions up. Other files in the folder are ignored, since a
crunchdao/competitions checkout keeps notebooks and notes beside the modules.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

from crunch_cli.errors import CrunchError

MODULE_KINDS = ("runner", "scoring", "leaderboard", "reward", "submission")
# What crunch-cli calls without a fallback; a module missing one fails only once a run or
# a scoring reaches it, long after the organizer could have fixed it.
REQUIRED_FUNCTIONS = {"runner": ("run", "execute"), "scoring": ("score",)}
# Source code, not data: a larger file is a mistake, and each one is read whole to serve it.
MAX_MODULE_BYTES = 1 << 20
HINT = "fix the module, then run the command again; nothing was registered"


@dataclasses.dataclass(frozen=True)
class ModuleSource:
    kind: str
    path: Path
    source: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source).hexdigest()


def read_modules(folder: Path) -> dict[str, ModuleSource]:
    """Every module present in `folder`, checked, by kind; the first problem found is one
    `CrunchError` that names the file (and the line, when there is one).
    """
    if not folder.is_dir():
        raise CrunchError(
            f"{folder} is not a folder",
            hint="pass --modules the folder holding runner.py and scoring.py",
        )
    modules = {}
    for kind in MODULE_KINDS:
        path = folder / f"{kind}.py"
        if not path.is_symlink() and not path.exists():
            if kind in REQUIRED_FUNCTIONS:
                raise CrunchError(
                    f"{folder} has no {kind}.py",
                    hint="a competition's modules need runner.py and scoring.py; "
                    "leaderboard.py, reward.py and submission.py are optional",
                )
            continue
        module = ModuleSource(kind, path, _read(path))
        _check(module)
        modules[kind] = module
    return modules


def _read(path: Path) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise CrunchError(
            f"{path} is not a regular file",
            hint="replace the link with a copy of the file: the hub stores what the folder holds",
        )
    try:
        with open(path, "rb") as file:
            source = file.read(MAX_MODULE_BYTES + 1)
    except OSError as error:
        raise CrunchError(f"cannot read {path}: {error.strerror or error}", hint=HINT) from error
    if len(source) > MAX_MODULE_BYTES:
        raise CrunchError(
            f"{path} is larger than {MAX_MODULE_BYTES // 1024} KiB", hint="modules are source code"
        )
    return source


def _check(module: ModuleSource) -> None:
    """The module decodes as UTF-8 (it is served as such), compiles, and binds at its top
    level every function crunch-cli requires of its kind.
    """
    try:
        module.source.decode("utf-8")
    except UnicodeDecodeError as error:
        line = module.source[: error.start].count(b"\n") + 1
        raise CrunchError(f"{module.path}:{line}: not UTF-8 text", hint=HINT) from None
    try:
        tree = ast.parse(module.source, filename=str(module.path))
    except SyntaxError as error:
        raise CrunchError(f"{module.path}:{error.lineno or 1}: {error.msg}", hint=HINT) from None
    except ValueError as error:  # NUL bytes, on the Pythons that do not call it a SyntaxError
        raise CrunchError(f"{module.path}: {error}", hint=HINT) from None
    bound = dict(_bindings(tree.body))
    for name in REQUIRED_FUNCTIONS.get(module.kind, ()):
        node = bound.get(name)
        if node is None:
            raise CrunchError(
                f"{module.path} defines no top-level `{name}`",
                hint=f"crunch-cli calls {module.kind}.py's "
                + " and ".join(f"`{required}`" for required in REQUIRED_FUNCTIONS[module.kind])
                + "; "
                + HINT,
            )
        if isinstance(node, ast.AsyncFunctionDef):
            raise CrunchError(
                f"{module.path}:{node.lineno}: `{name}` is `async def`; crunch-cli calls it "
                "as a plain function and would never run its body",
                hint=HINT,
            )


def _bindings(body: list[ast.stmt]) -> Iterator[tuple[str, ast.stmt]]:
    """(name, statement) for each name the module binds when it runs: definitions,
    assignments and imports, also under a top-level `if`, `try` or `with` (a fallback
    import, a definition per platform), never inside a function or class body.
    """
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                yield from ((name, node) for name in _assigned(target))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            yield from ((name, node) for name in _assigned(node.target))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                yield (alias.asname or alias.name.split(".")[0]), node
        elif isinstance(node, ast.If | ast.With):
            yield from _bindings(node.body)
            yield from _bindings(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _bindings(block)
            for handler in node.handlers:
                yield from _bindings(handler.body)


def _assigned(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _assigned(element)
    elif isinstance(target, ast.Starred):
        yield from _assigned(target.value)
