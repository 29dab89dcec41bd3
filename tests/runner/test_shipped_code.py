"""`crunch test` runs the code `crunch push` would send: a helper that push leaves out fails
here too, naming the file, instead of later on the hub."""

from __future__ import annotations

from crunch_cli.runner import local
from crunch_cli.workspace import Workspace

MAIN = """
    from helpers import offset


    def train():
        pass


    def infer(X_test):
        return X_test[["id"]].assign(prediction=offset)
"""


def test_a_helper_left_out_by_gitignore_fails_the_test_and_is_named(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", MAIN)
    workspace.write("helpers.py", "offset = 0\n")
    workspace.write(".gitignore", "helpers.py\n")

    result = crunch("test")

    assert result.exit_code == 1
    assert "No module named 'helpers'" in result.stderr
    assert (
        "helpers.py is in your workspace but crunch push leaves it out (.gitignore or the "
        "default ignore rules), so the hub would not have it" in result.stderr
    )


def test_a_helper_push_sends_is_imported_and_errors_name_the_users_files(make_workspace, crunch):
    workspace = make_workspace("cross-sectional", MAIN.replace("offset = ", "offset ="))
    workspace.write("helpers.py", "offset = 1 / 0\n")

    result = crunch("test")

    assert result.exit_code == 1
    assert f'File "{workspace.root / "helpers.py"}", line 1' in result.stderr
    assert ".test-" not in result.output


def test_a_notebook_test_never_writes_over_the_workspaces_own_files(make_workspace):
    workspace = make_workspace("cross-sectional", "# the user's own main.py\n")
    cells = [
        "def train():\n    pass\n",
        "def infer(X_test):\n    return X_test[['id']].assign(prediction=0)\n",
    ]

    local.test_workspace(Workspace(workspace.root), local.TestOptions(), notebook_cells=cells)

    assert (workspace.root / "main.py").read_text() == "# the user's own main.py\n"
