"""What a push sends: the code and model files, the main script, frozen requirements.

Building a bundle is offline and leaves the workspace untouched: a notebook is converted
in memory, requirements are generated or frozen in memory, and only the user's own files
are read from disk. `--dry`, `--export` and the real push all start from the same bundle.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from crunch_cli.errors import PushError
from crunch_cli.push.files import LocalFile, code_files, model_files
from crunch_cli.push.secrets import Outgoing, refuse_secrets
from crunch_cli.push.upload import Blob, UploadCache, blob_from_bytes, blob_from_file
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.convert.model import Conversion
    from crunch_cli.requirements import Requirement

NOTEBOOK = "main.ipynb"
DEFAULT_MAIN_FILE = "main.py"
REQUIREMENTS = "requirements.txt"
ORIGINAL_REQUIREMENTS = "requirements.original.txt"
# crunch-cli 13's name for the R packages to install (crunch-convert's RequirementLanguage.R).
R_REQUIREMENTS = "requirements.r.txt"
REQUIRED_FUNCTIONS = ("train", "infer")


@dataclasses.dataclass(frozen=True)
class BundleFile:
    """`path` is relative to the workspace (code) or to the model directory (model)."""

    path: str
    kind: Literal["code", "model"]
    blob: Blob
    origin: str = ""  # why push made this file rather than reading it, for the manifest


@dataclasses.dataclass
class Bundle:
    files: list[BundleFile]
    main_file_path: str
    model_directory: str
    type: Literal["CODE", "NOTEBOOK"]
    requirements: list[Requirement]
    notes: list[str]
    # Files named like secrets that the user chose to send: the hub asks for that choice.
    allowed_secrets: list[str] = dataclasses.field(default_factory=list)

    def size(self, kind: str) -> int:
        return sum(file.blob.size for file in self.files if file.kind == kind)


def build_bundle(
    workspace: Workspace,
    *,
    main_file: str = DEFAULT_MAIN_FILE,
    freeze: bool = True,
    cache: UploadCache,
    allow_secrets: Collection[str] = (),
    notebook: Path | Sequence[str] | None = None,
    model_directory: str | None = None,
) -> Bundle:
    """`allow_secrets`: workspace paths (POSIX) to send even though they look like secrets.
    `notebook`: a notebook file, or the code cells a kernel ran, that becomes the main file
    (the notebook API's `submit()`), whatever else the workspace holds.
    `model_directory`: instead of the one the workspace recorded (`push --model-directory`).

    The secrets check runs on the final file list, before any file is hashed: a refused
    push costs no time on a large model.
    """
    root = workspace.root
    model_directory = model_directory or workspace.config.model_directory
    notes: list[str] = []
    local = {file.path: file for file in code_files(root, model_directory)}
    made: dict[str, tuple[bytes, str]] = {}

    main_path = root / main_file
    if notebook is not None:
        name = notebook.name if isinstance(notebook, Path) else "the notebook"
        conversion = _convert_notebook(notebook, made, main_file)
        source = conversion.script
        local.pop(main_file, None)
        if isinstance(notebook, Path) and notebook.resolve().is_relative_to(root.resolve()):
            local.pop(notebook.resolve().relative_to(root.resolve()).as_posix(), None)

        def imported() -> list[Requirement]:
            return conversion.requirements

        submission_type: Literal["CODE", "NOTEBOOK"] = "NOTEBOOK"
        notes.append(f"{name} converted to {main_file}")
        _r_requirements(conversion, local, made, notes)
    elif main_path.is_file():
        source = main_path.read_text()
        submission_type = "CODE"

        def imported() -> list[Requirement]:
            from crunch_cli.convert import requirements_from_script

            return requirements_from_script(source)

    elif main_file == DEFAULT_MAIN_FILE and (root / NOTEBOOK).is_file():
        conversion = _convert_notebook(root / NOTEBOOK, made, main_file)
        source = conversion.script
        local.pop(NOTEBOOK, None)

        def imported() -> list[Requirement]:
            return conversion.requirements

        submission_type = "NOTEBOOK"
        notes.append(f"{NOTEBOOK} converted to {main_file} (your workspace is unchanged)")
        _r_requirements(conversion, local, made, notes)
    else:
        raise PushError(
            f"there is no {main_file} in {root}",
            hint="write your train() and infer() in main.py (or main.ipynb), or pass --main-file",
        )
    check_entry_points(source, main_file)

    requirements = _requirements(root, local, imported, freeze=freeze, made=made, notes=notes)
    local_models = model_files(root, model_directory)
    allowed_secrets = _refuse_secrets(local, made, local_models, model_directory, allow_secrets)

    files = {
        path: BundleFile(path, "code", blob_from_file(path, file.source, cache))
        for path, file in local.items()
    }
    for path, (content, origin) in made.items():
        files[path] = BundleFile(path, "code", blob_from_bytes(path, content), origin)
    models = [
        BundleFile(file.path, "model", blob_from_file(file.path, file.source, cache))
        for file in local_models
    ]
    cache.save()
    return Bundle(
        files=sorted(files.values(), key=lambda file: file.path) + models,
        main_file_path=main_file,
        model_directory=model_directory,
        type=submission_type,
        requirements=requirements,
        notes=notes,
        allowed_secrets=allowed_secrets,
    )


def _refuse_secrets(
    local: dict[str, LocalFile],
    made: dict[str, tuple[bytes, str]],
    models: list[LocalFile],
    model_directory: str,
    allowed: Collection[str],
) -> list[str]:
    """Check what will be sent: a file push made replaces the user's file of that path."""
    code = {path: Outgoing(path, file.source) for path, file in local.items()}
    for path, (content, origin) in made.items():
        code[path] = Outgoing(path, content, origin)
    model_paths = [f"{model_directory}/{file.path}" for file in models]
    return refuse_secrets(code.values(), model_paths, allowed=allowed)


def check_entry_points(source: str, main_file: str) -> None:
    """The platform calls train() and infer(): say which is missing, and where, before sending."""
    try:
        tree = ast.parse(source, filename=main_file)
    except SyntaxError as error:
        raise PushError(
            f"{main_file} line {error.lineno}: {error.msg}",
            hint="fix the syntax error; `crunch test` runs your code locally first",
        ) from error
    top_level = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            top_level.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            top_level.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            top_level.update(target.id for target in targets if isinstance(target, ast.Name))
    for name in REQUIRED_FUNCTIONS:
        if name in top_level:
            continue
        nested = next(
            (
                node
                for node in ast.walk(tree)
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
            ),
            None,
        )
        where = f" (line {nested.lineno} defines it, but not at the top level)" if nested else ""
        raise PushError(
            f"{main_file} does not define {name}(){where}",
            hint=f"define `def {name}(...)` at the top level of {main_file}",
        )


def _convert_notebook(
    notebook: Path | Sequence[str], made: dict[str, tuple[bytes, str]], main_file: str
) -> Conversion:
    from crunch_cli.convert import convert_cells, convert_notebook

    if isinstance(notebook, Path):
        conversion, origin = convert_notebook(notebook), notebook.name
    else:  # a kernel's history: a cell that failed to parse never ran, all of it goes
        conversion, origin = convert_cells(notebook, bad_cells="comment-cell"), "the notebook"
    made[main_file] = (conversion.script.encode(), f"converted from {origin}")
    for name, content in conversion.embedded_files.items():
        made[name] = (content.encode(), f"embedded in {origin}")
    return conversion


def _r_requirements(
    conversion: Conversion,
    files: dict[str, LocalFile],
    made: dict[str, tuple[bytes, str]],
    notes: list[str],
) -> None:
    """requirements.r.txt from the R packages the notebook loads (rpy2's `importr`), as
    crunch-cli 13 sends it, unless the workspace (or the notebook) has its own. R packages
    are not pinned: their installed versions are not known here."""
    from crunch_cli.requirements import format_requirements

    if not conversion.r_requirements or R_REQUIREMENTS in files or R_REQUIREMENTS in made:
        return
    header = "generated from the R packages your notebook loads"
    made[R_REQUIREMENTS] = (
        format_requirements(conversion.r_requirements, header=header).encode(),
        header,
    )
    notes.append(f"no {R_REQUIREMENTS}: generated one from the R packages your notebook loads")


def _requirements(
    root: Path,
    files: dict[str, LocalFile],
    imported: Callable[[], list[Requirement]],
    *,
    freeze: bool,
    made: dict[str, tuple[bytes, str]],
    notes: list[str],
) -> list[Requirement]:
    """Parse or generate requirements.txt; when freezing, keep the original beside it.

    `imported` is only called when there is no requirements.txt to read.
    """
    from crunch_cli.requirements import build_requirements, parse_requirements_file

    if REQUIREMENTS in made:  # embedded in the notebook
        original: str | None = made[REQUIREMENTS][0].decode()
    elif REQUIREMENTS in files:
        original = (root / REQUIREMENTS).read_text()
    else:
        original = None
    if original is not None:
        requirements = parse_requirements_file(original)
        header = f"your {REQUIREMENTS}"
    else:
        requirements = imported()
        header = "generated from the imports of your code"
        notes.append(f"no {REQUIREMENTS}: generated one from the imports of your code")
    built = build_requirements(requirements, header=header, freeze_versions=freeze)
    if original is None or built.original is not None:
        made[REQUIREMENTS] = (
            built.text.encode(),
            "pinned to installed versions" if freeze else header,
        )
    if built.original is not None:
        made[ORIGINAL_REQUIREMENTS] = ((original or built.original).encode(), "before pinning")
    return built.requirements
