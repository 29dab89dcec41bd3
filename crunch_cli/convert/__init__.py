"""Notebook -> script conversion.

`convert_notebook` is the pure core (a notebook in, a `Conversion` out);
`crunch_cli.convert.files.write_conversion` writes the results. Importing this package
is cheap: nbformat, yaml and packaging load only when a conversion runs.
"""

from crunch_cli.convert.converter import convert_cells, convert_notebook, requirements_from_script
from crunch_cli.convert.model import BadCells, Conversion, ConversionWarning

__all__ = [
    "BadCells",
    "Conversion",
    "ConversionWarning",
    "convert_cells",
    "convert_notebook",
    "requirements_from_script",
]
