"""A notebook written for crunch-cli 13, executed in a real Jupyter kernel (nbclient): it uses
only 13.0.1's API (`import crunch`, `load_notebook`, `load_data`, `test`, `submit`), and its
submission reaches the hub."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

COMPETITION = "demo-timeseries"
CODE = """\
import pandas as pd

def train(X_train, y_train, model_directory_path):
    print("notebook train", len(X_train))

def infer(X_test):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def shown_text(output: nbformat.NotebookNode) -> str:
    return output.get("text") or output.get("data", {}).get("text/plain", "")


def test_a_crunch_cli_13_notebook_tests_and_submits_to_the_hub(
    hub, crunch, caller, tmp_path, monkeypatch
):
    monkeypatch.setenv("CRUNCH_SETUP_TOKEN", hub.mint_token(COMPETITION, "alice", "alpha"))
    assert crunch("--api-base-url", hub.url, "setup", COMPETITION, "alpha").exit_code == 0
    root = tmp_path / f"{COMPETITION}-alpha"
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_code_cell(source)
        for source in (
            "import crunch\ncrunch = crunch.load_notebook()",
            "X_train, y_train, X_test = crunch.load_data()\nprint('rows', len(X_train))",
            CODE,
            "crunch.test(train_frequency=0, no_determinism_check=True, raise_abort=True)",
            "crunch.submit('from a notebook')",
        )
    ]
    client = NotebookClient(
        book, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(root)}}
    )

    client.execute()

    outputs = ["".join(map(shown_text, cell.outputs)) for cell in book.cells]
    assert "rows 3000" in outputs[1]
    assert "notebook train 2900" in outputs[3]
    assert "local score (spearman)" in outputs[3]
    assert outputs[3].rstrip().endswith("<crunch test of notebook: passed>")
    assert "Submission #1 created" in outputs[4]
    assert "<submission #1: " in outputs[4]
    assert len(outputs[4]) < 200
    submissions = caller.call("GET", caller.project_path(3) + "/submissions").json()
    [submission] = submissions["content"] if isinstance(submissions, dict) else submissions
    assert submission["message"] == "from a notebook"
    assert submission["type"] == "NOTEBOOK"
    files = caller.call(
        "GET", caller.project_path(3) + f"/submissions/{submission['number']}/files"
    ).json()
    names = {item["name"] for item in (files["content"] if isinstance(files, dict) else files)}
    assert {"main.py", "requirements.txt"} <= names
