"""Imports whose distribution has another name, as quickstarter notebooks write them."""

from __future__ import annotations

from crunch_cli.convert import convert_notebook
from crunch_cli.requirements import build_requirements


def requirements_of(notebook) -> str:
    """requirements.txt as a push without a hub writes it (names resolved offline)."""
    conversion = convert_notebook(notebook)
    return build_requirements(
        conversion.requirements, header="extracted from a notebook", freeze_versions=False
    ).text


def test_a_notebook_that_imports_crunch_requires_crunch_cli_offline(write_notebook):
    # This environment has `crunch` from crunch-cli-hub: the platform installs crunch-cli.
    notebook = write_notebook("import crunch\ncrunch = crunch.load_notebook()\n")

    assert requirements_of(notebook) == (
        "# extracted from a notebook\n\ncrunch-cli  # alias of crunch\n"
    )


def test_a_version_comment_on_import_crunch_pins_crunch_cli(write_notebook):
    notebook = write_notebook("import crunch  # == 3.0.0\n")

    assert requirements_of(notebook) == (
        "# extracted from a notebook\n\ncrunch-cli==3.0.0  # alias of crunch\n"
    )


def test_sklego_and_castle_require_their_distributions_offline(write_notebook):
    notebook = write_notebook(
        "from sklego.model_selection import GroupTimeSeriesSplit\n",
        "import castle\nfrom castle.algorithms import PC\n",
    )

    assert requirements_of(notebook) == (
        "# extracted from a notebook\n\n"
        "gcastle  # alias of castle\n"
        "scikit-lego  # alias of sklego\n"
    )


def test_convert_writes_crunch_cli_into_requirements_without_a_hub(
    crunch, write_notebook, tmp_path
):
    write_notebook("import crunch\nimport sklego\n", name="model.ipynb")

    result = crunch("convert", "model.ipynb", "--requirements")

    assert result.exit_code == 0, result.output
    assert result.stdout == "wrote main.py\nwrote requirements.txt\n"
    assert (tmp_path / "requirements.txt").read_text() == (
        "# extracted from a notebook\n\n"
        "crunch-cli  # alias of crunch\n"
        "scikit-lego  # alias of sklego\n"
    )
