"""`crunch convert` as a function: convert a notebook file and write the results.

Everything is computed before the first write, and every target is checked first, so an
error leaves the folder as it was; each file is written atomically.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from crunch_cli.convert.converter import convert_notebook
from crunch_cli.convert.model import BadCells, Conversion
from crunch_cli.errors import ConversionError, HubError, WorkspaceExistsError
from crunch_cli.requirements import (
    ORIGINAL_REQUIREMENTS_FILE,
    R_REQUIREMENTS_FILE,
    REQUIREMENTS_FILE,
    Whitelist,
    build_requirements,
    format_requirements,
)
from crunch_cli.workspace import atomic_write_text

NOTEBOOK_HEADER = "extracted from a notebook"


@dataclasses.dataclass(frozen=True)
class ConvertResult:
    conversion: Conversion
    written: list[Path]
    notes: list[str]


def convert_file(
    notebook: Path,
    script: Path,
    *,
    write_requirements: bool = False,
    write_embedded_files: bool = False,
    freeze: bool = True,
    force: bool = False,
    bad_cells: BadCells = "error",
    whitelist: Whitelist | None = None,
) -> ConvertResult:
    """Convert `notebook` into `script`; requirements.txt (requirements.r.txt when it loads R
    packages) and embedded files go beside it. R packages are not pinned: their versions
    are not known here.

    `whitelist` (the hub's) names the distributions when it answers; when it does not,
    names are resolved locally and a note says so.
    """
    if script.resolve() == notebook.resolve():
        raise ConversionError(
            f"the script {script} would overwrite the notebook",
            hint="name another script file, like main.py",
        )
    conversion = convert_notebook(notebook, bad_cells=bad_cells)
    outputs: dict[Path, str] = {script: conversion.script}
    notes: list[str] = []
    folder = script.parent
    if write_requirements:
        try:
            built = build_requirements(
                conversion.requirements,
                header=NOTEBOOK_HEADER,
                freeze_versions=freeze,
                whitelist=whitelist,
            )
        except HubError as error:
            notes.append(f"{error.message}; distribution names were resolved locally")
            built = build_requirements(
                conversion.requirements, header=NOTEBOOK_HEADER, freeze_versions=freeze
            )
        outputs[folder / REQUIREMENTS_FILE] = built.text
        if built.original is not None:
            outputs[folder / ORIGINAL_REQUIREMENTS_FILE] = built.original
        if conversion.r_requirements:
            outputs[folder / R_REQUIREMENTS_FILE] = format_requirements(
                conversion.r_requirements, header=NOTEBOOK_HEADER
            )
    if write_embedded_files:
        for path, content in conversion.embedded_files.items():
            target = folder / path
            if target in outputs:
                raise ConversionError(
                    f"the embedded file {path} has the same name as a file the conversion writes",
                    hint="rename the embedded file in its markdown cell header",
                )
            outputs[target] = content
    _check_targets(outputs, force=force)
    for target, text in outputs.items():
        atomic_write_text(target, text)
    return ConvertResult(conversion, list(outputs), notes)


def _check_targets(outputs: dict[Path, str], *, force: bool) -> None:
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not force:
        raise WorkspaceExistsError(
            f"not overwriting {', '.join(existing)}",
            hint="pass --force to overwrite",
        )
    folders = [
        str(path)
        for path in outputs
        if path.is_dir() or any(parent.exists() and not parent.is_dir() for parent in path.parents)
    ]
    if folders:
        raise ConversionError(
            f"cannot write {', '.join(folders)}: a folder is in the way, or a file where a "
            "folder should be",
            hint="choose another file name",
        )
