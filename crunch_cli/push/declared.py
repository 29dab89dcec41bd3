"""The requirements a file declares, read as `crunch push` reads them, for `crunch whitelist
validate` to check against the hub's whitelist before any push.

A requirements file is read line by line; a script or a notebook by its imports, which is
what push generates requirements.txt from when a workspace has none. Every error names the
file it was read from, whatever its name.
"""

from __future__ import annotations

from pathlib import Path

from crunch_cli.errors import ConversionError, CrunchError, RequirementsError, WorkspaceError
from crunch_cli.push.bundle import DEFAULT_MAIN_FILE, NOTEBOOK, REQUIREMENTS
from crunch_cli.requirements import Requirement

# What push reads requirements from, in its order: the file, else the main script's or the
# notebook's imports.
DEFAULT_SOURCES = (REQUIREMENTS, DEFAULT_MAIN_FILE, NOTEBOOK)


def requirements_source(folder: Path) -> Path:
    """requirements.txt in `folder`, else the main script, else the notebook."""
    for name in DEFAULT_SOURCES:
        if (folder / name).is_file():
            return folder / name
    raise WorkspaceError(
        f"no {', '.join(DEFAULT_SOURCES[:-1])} or {DEFAULT_SOURCES[-1]} in {folder}",
        hint="run it in your workspace, or name the file: `crunch whitelist validate PATH`",
    )


def declared_requirements(path: Path, name: str) -> list[Requirement]:
    """The requirements of `path` (`name`: how messages call it), as push would send them:
    names resolved, versions left as written."""
    from crunch_cli.requirements import build_requirements

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not text"
        raise WorkspaceError(
            f"cannot read {name}: {reason}",
            hint="name a requirements.txt, a script or a notebook: "
            "`crunch whitelist validate PATH`",
        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".ipynb":
            from crunch_cli.convert import convert_notebook

            imported = convert_notebook(text, bad_cells="comment").requirements
        elif suffix == ".py":
            from crunch_cli.convert import requirements_from_script

            imported = requirements_from_script(text, name=name)
        else:
            from crunch_cli.requirements import parse_requirements_file

            return parse_requirements_file(text)
        return build_requirements(imported, header="", freeze_versions=False).requirements
    except (ConversionError, RequirementsError) as error:
        raise _naming(error, name) from None


def _naming(error: CrunchError, name: str) -> CrunchError:
    """`error` with its message about `name`: the parser says requirements.txt of any
    requirements file, and a notebook's messages name only the cell."""
    message = error.message
    if message.startswith(f"{REQUIREMENTS} "):
        message = name + message[len(REQUIREMENTS) :]
    elif name not in message:
        message = f"{name}: {message}"
    return type(error)(message, hint=error.hint)
