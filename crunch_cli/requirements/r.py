"""R requirements, for code that calls R through rpy2: `requirements.r.txt` beside
`requirements.txt`, in the same format (crunch-convert's), one package name a line.

The packages that come with every R installation are listed commented, as the standard
library is in requirements.txt: recorded, nothing to install.
"""

from __future__ import annotations

from crunch_cli.requirements.model import Requirement

R_REQUIREMENTS_FILE = "requirements.r.txt"

# R's base packages (priority "base"): installed with R itself, never from CRAN.
R_BASE_PACKAGES = frozenset(
    {
        "base",
        "compiler",
        "datasets",
        "grDevices",
        "graphics",
        "grid",
        "methods",
        "parallel",
        "splines",
        "stats",
        "stats4",
        "tcltk",
        "tools",
        "utils",
    }
)


def r_requirement(package: str) -> Requirement:
    return Requirement(package, standard=package in R_BASE_PACKAGES)
