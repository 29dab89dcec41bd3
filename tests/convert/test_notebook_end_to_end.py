"""A notebook with the habits of real ones (a `%%time` training cell, newer syntax in code
that is commented out anyway, `import crunch`, an embedded file) goes through `crunch push`
and `crunch test` in a real workspace."""

from __future__ import annotations

import os
import sys
import zipfile

import pytest
from nbformat.v4 import new_markdown_cell

NEWER_SYNTAX = sys.version_info < (3, 12)
ALIAS = "type Frame = pd.DataFrame\n" if NEWER_SYNTAX else "Frame = pd.DataFrame\n"
CELLS = (
    "import crunch\ncrunch = crunch.load_notebook()\n",
    "import pandas as pd\n",
    ALIAS,
    new_markdown_cell("---\nfile: config.yaml\n---\nshift: 1\n"),
    "%%time\n"
    "import os\n"
    "import yaml\n"
    "def train(X_train, y_train, model_directory_path):\n"
    "    print('trained under %%time', len(X_train))\n"
    "\n"
    "def infer(X_test):\n"
    "    with open(os.path.join(os.path.dirname(__file__), 'config.yaml')) as file:\n"
    "        print('config', yaml.safe_load(file))\n"
    "    return X_test[['id', 'moon']].assign(prediction=X_test['feature_00'])\n",
    "train(X_train, y_train, 'resources')\n",
)


@pytest.fixture
def workspace(hub, crunch, tmp_path, write_notebook):
    """A set-up timeseries workspace whose code is main.ipynb; the current folder."""
    token = hub.mint_token("demo-timeseries", "alice", "alpha")
    setup = crunch("--api-base-url", hub.url, "setup", "demo-timeseries", "alpha", "--token", token)
    assert setup.exit_code == 0, setup.output
    root = tmp_path / "demo-timeseries-alpha"
    write_notebook(*CELLS).rename(root / "main.ipynb")
    os.chdir(root)
    return root


def test_push_sends_the_notebook_converted_with_its_embedded_file(workspace, crunch):
    dry = crunch("push", "--dry")
    export = crunch("push", "--export", "bundle.zip")

    assert dry.exit_code == 0, dry.output
    assert "4 files: code " in dry.stdout
    assert export.exit_code == 0, export.output
    with zipfile.ZipFile(workspace / "bundle.zip") as bundle:
        sent = {name: bundle.read(name).decode() for name in bundle.namelist()}
    assert sent["config.yaml"] == "shift: 1\n"
    assert f"\n\n#{ALIAS}\n\n#%%time\nimport os\nimport yaml\ndef train(" in sent["main.py"]
    assert "\n#train(X_train, y_train, 'resources')\n" in sent["main.py"]
    assert "\ncrunch-cli  # alias of crunch\n" in sent["requirements.txt"]


def test_crunch_test_runs_the_functions_of_a_time_cell(workspace, crunch):
    result = crunch("test", "--train-frequency", "0")

    assert result.exit_code == 0, result.output
    assert "trained under %%time 2900" in result.stdout
    assert "config {'shift': 1}" in result.stdout
    if NEWER_SYNTAX:
        assert "cell 3 (id c3), line 1: cannot parse the statement with Python" in result.output
