"""Requirements: parse, merge, name, freeze and format `requirements.txt`.

Imports nothing heavy: `packaging` is loaded by the functions that parse or compare names.
"""

from crunch_cli.requirements.files import (
    ORIGINAL_REQUIREMENTS_FILE,
    REQUIREMENTS_FILE,
    RequirementsText,
    build_requirements,
)
from crunch_cli.requirements.format import format_requirements
from crunch_cli.requirements.freeze import freeze, installed_version
from crunch_cli.requirements.model import Requirement, merge
from crunch_cli.requirements.names import is_standard, module_to_distribution
from crunch_cli.requirements.parse import (
    ImportComment,
    parse_import_comment,
    parse_requirement,
    parse_requirements_file,
)
from crunch_cli.requirements.r import R_REQUIREMENTS_FILE, r_requirement
from crunch_cli.requirements.resolve import resolve
from crunch_cli.requirements.whitelist import LibraryIndex, Whitelist

__all__ = [
    "ORIGINAL_REQUIREMENTS_FILE",
    "REQUIREMENTS_FILE",
    "R_REQUIREMENTS_FILE",
    "ImportComment",
    "LibraryIndex",
    "Requirement",
    "RequirementsText",
    "Whitelist",
    "build_requirements",
    "format_requirements",
    "freeze",
    "installed_version",
    "is_standard",
    "merge",
    "module_to_distribution",
    "parse_import_comment",
    "parse_requirement",
    "parse_requirements_file",
    "r_requirement",
    "resolve",
]
