"""Notebooks that call R through rpy2: `importr("pkg")` declares an R requirement."""

from __future__ import annotations

import zipfile
from pathlib import Path

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


def test_convert_verbose_lists_the_r_requirements(crunch, write_notebook):
    write_notebook(*R_NOTEBOOK, name="model.ipynb")

    result = crunch("convert", "model.ipynb", "--verbose")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "requirement: rpy2\n"
        "R requirement: base\n"
        "R requirement: forecast\n"
        "R requirement: stats\n"
        "R requirement: ggplot2\n"
        "wrote main.py\n"
    )


TRAIN = "def train(X_train, y_train, model_directory_path):\n    pass\n"
GENERATED = (
    "# generated from the R packages your notebook loads\n\n"
    "## third-party\nforecast\nggplot2\n\n"
    "## standard\n#base\n#stats\n"
)


@pytest.fixture
def notebook_workspace(hub, crunch, tmp_path, write_notebook, monkeypatch) -> Path:
    """A set-up workspace whose code is a notebook loading R packages; the current folder."""
    token = hub.mint_token("demo-timeseries", "alice", "alpha")
    setup = crunch("--api-base-url", hub.url, "setup", "demo-timeseries", "alpha", "--token", token)
    assert setup.exit_code == 0, setup.output
    root = tmp_path / "demo-timeseries-alpha"
    write_notebook(*R_NOTEBOOK, TRAIN).rename(root / "main.ipynb")
    monkeypatch.chdir(root)
    return root


def test_push_of_a_notebook_loading_r_packages_sends_requirements_r_txt(
    notebook_workspace, hub, crunch
):
    crunch("whitelist", "request", "--name", "rpy2")
    approved = crunch("hub", "whitelist", "approve", "rpy2", "--root", str(hub.root))
    assert approved.exit_code == 0, approved.output

    pushed = crunch("push", "-m", "with R", "--no-pip-freeze")
    assert not (notebook_workspace / "requirements.r.txt").exists()  # made in memory
    restored = crunch("submission", "checkout", "1", "requirements.r.txt")

    assert pushed.exit_code == 0, pushed.output
    assert (
        "note: no requirements.r.txt: generated one from the R packages your notebook loads"
        in pushed.stderr
    )
    assert restored.exit_code == 0, restored.output
    assert (notebook_workspace / "requirements.r.txt").read_text() == GENERATED


def test_the_workspaces_own_r_requirements_are_sent_as_they_are(notebook_workspace, crunch):
    (notebook_workspace / "requirements.r.txt").write_text("forecast\n")

    result = crunch("push", "--export", "bundle.zip", "--no-pip-freeze")

    assert result.exit_code == 0, result.output
    assert "requirements.r.txt" not in result.stderr
    with zipfile.ZipFile(notebook_workspace / "bundle.zip") as bundle:
        assert bundle.read("requirements.r.txt") == b"forecast\n"
