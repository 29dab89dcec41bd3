"""Notebooks: `crunch test` on main.ipynb, and the notebook API inside a real Jupyter kernel."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

TRAIN_AND_INFER = """\
def train(X_train, y_train, model_directory_path):
    print("notebook train", len(X_train))

def infer(X_test):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def notebook(*sources: str) -> nbformat.NotebookNode:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return book


def test_crunch_test_converts_main_ipynb_without_leaving_a_main_py(make_workspace, crunch):
    workspace = make_workspace("timeseries")
    book = notebook("%pip install pandas", "import pandas as pd", TRAIN_AND_INFER, "train(1, 2, 3)")
    nbformat.write(book, workspace.root / "main.ipynb")

    result = crunch("test", "--train-frequency", "0")

    assert result.exit_code == 0, result.output
    assert "crunch test: main.ipynb" in result.stdout
    assert "notebook train 2900" in result.stdout
    assert not (workspace.root / "main.py").exists()
    assert not list((workspace.root / "prediction").glob(".test-*"))
    assert (workspace.root / "prediction" / "prediction.parquet").is_file()


def test_a_notebook_without_train_is_named_once_in_the_error(make_workspace, crunch):
    workspace = make_workspace("timeseries")
    book = notebook("import pandas as pd", "def infer(X_test):\n    return X_test")
    nbformat.write(book, workspace.root / "main.ipynb")

    result = crunch("test")

    assert result.exit_code == 1
    notebook_path = workspace.root / "main.ipynb"
    assert f"error: {notebook_path} defines no train() function" in result.stderr
    assert result.output.count("defines no train()") == 1
    assert "main.py" not in result.output
    assert not (workspace.root / "main.py").exists()


def shown_text(output: nbformat.NotebookNode) -> str:
    """Printed text, or the plain-text form of a rich display (the summary table)."""
    return output.get("text") or output.get("data", {}).get("text/plain", "")


def test_notebook_api_loads_data_and_tests_the_code_the_kernel_ran(make_workspace):
    workspace = make_workspace("timeseries")
    book = notebook(
        "import crunch_cli.notebook\ncrunch = crunch_cli.notebook.load_notebook()",
        "X_train, y_train, X_test = crunch.load_data()\n"
        "print('shapes', X_train.shape, y_train.shape, X_test.shape)",
        "this cell does not parse(",
        TRAIN_AND_INFER,
        "report = crunch.test(train_frequency=0)\n"
        "assert report.result.ok and not report.failures, report",
    )
    client = NotebookClient(
        book,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(workspace.root)}},
    )

    client.execute()

    outputs = ["".join(map(shown_text, cell.outputs)) for cell in book.cells]
    errors = [output for cell in book.cells for output in cell.outputs if "ename" in output]
    assert [error["ename"] for error in errors] == ["SyntaxError"]
    assert "shapes (3000, 22) (3000, 3) (1000, 22)" in outputs[1]
    assert "notebook train 2900" in outputs[4]
    assert "crunch test: notebook" in outputs[4]
    assert "local score (spearman)" in outputs[4]
    assert not (workspace.root / "main.py").exists()
    assert (workspace.root / "prediction" / "prediction.parquet").is_file()


def test_the_notebook_api_reports_a_missing_train_once_and_draws_no_bar(make_workspace, capfd):
    import crunch_cli.notebook

    workspace = make_workspace("timeseries")
    nbformat.write(notebook("def infer(X_test):\n    return X_test"), workspace.root / "main.ipynb")

    report = crunch_cli.notebook.load_notebook().test()
    printed = capfd.readouterr()

    assert report is not None and not report.result.ok
    assert (printed.out + printed.err).count("defines no train()") == 1
    assert f"error: {workspace.root / 'main.ipynb'} defines no train() function" in printed.err
    assert "\x1b[" not in printed.out + printed.err
    assert "[crunch test]" not in printed.err


def test_code_from_a_kernel_without_train_names_the_notebook(make_workspace):
    from crunch_cli.runner.local import TestOptions, test_workspace
    from crunch_cli.workspace import Workspace

    workspace = make_workspace("timeseries")

    report = test_workspace(
        Workspace(workspace.root), TestOptions(), notebook_cells=["import pandas as pd"]
    )

    assert report.result.error == (
        "the notebook defines no train() function; define it at the top level"
    )
