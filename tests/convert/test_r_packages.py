"""Notebooks that call R through rpy2: `importr("pkg")` declares an R requirement."""

from __future__ import annotations

import pytest

from crunch_cli.convert import convert_notebook
from crunch_cli.requirements import Requirement

R_NOTEBOOK = (
    "import rpy2.robjects as robjects\n"
    "from rpy2.robjects.packages import importr\n"
    "import rpy2.robjects.packages as rpackages\n",
    "base = importr('base')\n"
    'forecast = rpackages.importr("forecast")\n'
    "stats: object = robjects.packages.importr('stats', on_conflict='warn')\n"
    "ggplot2 = importr(name='ggplot2')\n"
    "base.print('loaded')\n",
    "def infer(X_test):\n    return forecast.auto_arima(stats.ts(X_test))\n",
)


def test_a_notebook_loading_r_packages_declares_them_and_keeps_the_loads(write_notebook):
    conversion = convert_notebook(write_notebook(*R_NOTEBOOK))

    assert conversion.r_requirements == [
        Requirement("base", standard=True),
        Requirement("forecast"),
        Requirement("stats", standard=True),
        Requirement("ggplot2"),
    ]
    assert [requirement.module for requirement in conversion.requirements] == ["rpy2"]
    assert "base = importr('base')\nforecast = rpackages.importr(" in conversion.script
    assert "#base.print('loaded')\n" in conversion.script
    assert conversion.warnings == []  # infer() reads `forecast` and `stats`: both are kept


def test_convert_writes_the_r_requirements_beside_requirements_txt(
    crunch, write_notebook, tmp_path
):
    write_notebook(*R_NOTEBOOK, name="model.ipynb")

    result = crunch("convert", "model.ipynb", "--requirements", "--no-freeze")

    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote main.py\nwrote requirements.txt\nwrote requirements.r.txt\n"
    assert (tmp_path / "requirements.r.txt").read_text() == (
        "# extracted from a notebook\n\n"
        "## third-party\nforecast\nggplot2\n\n"
        "## standard\n#base\n#stats\n"
    )
    assert (tmp_path / "requirements.txt").read_text() == "# extracted from a notebook\n\nrpy2\n"


def test_a_notebook_without_r_writes_no_r_requirements(crunch, write_notebook, tmp_path):
    write_notebook("import os\n", name="model.ipynb")

    result = crunch("convert", "model.ipynb", "--requirements")

    assert result.exit_code == 0, result.output
    assert not (tmp_path / "requirements.r.txt").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "package = importr(name_of_package)",  # a variable could name anything
        "package = importr('')",
        "package = importr('not a package')",
        "package = load('ggplot2')",
        "importr('ggplot2')",  # binds nothing the code could use
        "first, second = importr('ggplot2'), 1",
    ],
)
def test_what_does_not_name_an_r_package_is_no_r_requirement(write_notebook, statement):
    conversion = convert_notebook(
        write_notebook(f"from rpy2.robjects.packages import importr\n{statement}\n")
    )

    assert conversion.r_requirements == []
    assert f"#{statement}\n" in conversion.script


def test_an_r_package_loaded_under_keep_none_or_inside_a_function_is_not_required(
    write_notebook,
):
    notebook = write_notebook(
        "# @crunch/keep:none\nutils = importr('utils')\n",
        "def train():\n    dplyr = importr('dplyr')\n    return dplyr\n",
    )

    conversion = convert_notebook(notebook)

    assert conversion.r_requirements == []
    assert "#utils = importr('utils')" in conversion.script
