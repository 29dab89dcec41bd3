"""`crunch test` confines the user's code as the hub does, when bubblewrap is there: the
workspace, its read-only data and Python are all it sees."""

from __future__ import annotations

import pytest

from crunch_cli.runner import sandbox

pytestmark = pytest.mark.skipif(
    sandbox.bubblewrap_problem() is not None, reason="bubblewrap cannot run on this machine"
)

PEEKING = """
import os
import pathlib


def train():
    token = pathlib.Path(".crunchdao") / "token"
    print("token visible:", token.exists())
    print("beside the workspace:", pathlib.Path({outside!r}).exists())
    print("secret variable:", "CRUNCH_TEST_AWS_KEY" in os.environ)
    try:
        pathlib.Path("data/X_train.parquet").write_bytes(b"x")
        print("data: overwritten")
    except OSError as error:
        print("data:", error.strerror)
    pathlib.Path("notes.txt").write_text("written in the workspace")


def infer(X_test):
    return X_test[["id"]].assign(prediction=0)
"""


def test_crunch_test_hides_the_token_the_machine_and_the_environment(
    make_workspace, crunch, tmp_path, monkeypatch
):
    outside = tmp_path / "private.txt"
    outside.write_text("not for the code")
    monkeypatch.setenv("CRUNCH_TEST_AWS_KEY", "AKIA-not-for-the-code")
    workspace = make_workspace("cross-sectional", PEEKING.format(outside=str(outside)))

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "token visible: False" in result.stdout
    assert "beside the workspace: False" in result.stdout
    assert "secret variable: False" in result.stdout
    assert "data: Read-only file system" in result.stdout
    assert (workspace.root / "notes.txt").read_text() == "written in the workspace"
    assert (workspace.root / ".crunchdao" / "token").read_text()  # still there, for crunch
