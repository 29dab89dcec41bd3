"""`crunch quickstarter list|show|apply` against a real hub, and against a hub that lies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crunch_cli.api.client import HubClient

TEMPLATES = Path(__file__).resolve().parents[2] / "crunch_cli" / "templates" / "timeseries"


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_list_and_show_name_the_quickstarters_and_their_files(workspace, crunch):
    listed = crunch("quickstarter", "list")
    as_json = json.loads(crunch("quickstarter", "list", "--json").stdout)
    shown = crunch("quickstarter", "show", "code")

    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:3]] == ["notebook", "code"]
    assert [item["name"] for item in as_json] == ["notebook", "code"]
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0] == "code: Starter code (timeseries) (code)"
    assert [line.split()[-1] for line in shown.stdout.splitlines()[1:]] == [
        "main.py",
        "requirements.txt",
    ]


def test_apply_writes_the_files_into_a_folder(workspace, crunch):
    result = crunch("quickstarter", "apply", "notebook", "starter")

    assert result.exit_code == 0, result.output
    assert files_under(workspace / "starter") == {
        "main.ipynb": (TEMPLATES / "main.ipynb").read_bytes(),
        "requirements.txt": (TEMPLATES / "requirements.txt").read_bytes(),
    }
    assert "crunch convert main.ipynb" in result.stdout


def test_apply_replaces_nothing_without_overwrite(workspace, crunch):
    (workspace / "main.py").write_text("# mine\n")
    (workspace / "requirements.txt").write_text("numpy\n")

    refused = crunch("quickstarter", "apply", "code")

    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        "error: already there: main.py, requirements.txt",
        "hint: pass --overwrite to replace them, or apply it in another folder",
    ]
    assert (workspace / "main.py").read_text() == "# mine\n"

    replaced = crunch("quickstarter", "apply", "code", "--overwrite")

    assert replaced.exit_code == 0, replaced.output
    assert (workspace / "main.py").read_bytes() == (TEMPLATES / "main.py").read_bytes()
    assert not [path for path in workspace.iterdir() if path.name.startswith(".quickstarter-")]


def test_an_unknown_quickstarter_says_how_to_list_them(workspace, crunch):
    result = crunch("quickstarter", "show", "nope")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "hint: run `crunch quickstarter list` to see the competition's quickstarters"
    )


@pytest.mark.parametrize(
    "name",
    [
        "../evil.py",
        "/tmp/evil.py",
        "a/../../evil.py",
        ".git/hooks/pre-commit",
        "sitecustomize.py",
        "data/X_train.parquet",
        ".crunchdao/token",
        "evil\x1b[2J.py",
    ],
)
def test_a_hostile_hub_cannot_write_outside_or_into_dangerous_places(
    workspace, crunch, monkeypatch, name
):
    real = HubClient.quickstarter

    def hostile(self, competition, quickstarter):
        found = real(self, competition, quickstarter)
        found["files"][0]["name"] = name
        return found

    monkeypatch.setattr(HubClient, "quickstarter", hostile)
    before = files_under(workspace.parent)

    result = crunch("quickstarter", "apply", "code", "--overwrite")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: the hub sent")
    assert "Traceback" not in result.output
    assert files_under(workspace.parent) == before


@pytest.mark.parametrize("lie", [{"sha256": "0" * 64}, {"size": 3}])
def test_a_file_that_is_not_what_the_hub_listed_writes_nothing(workspace, crunch, monkeypatch, lie):
    real = HubClient.quickstarter

    def lying(self, competition, quickstarter):
        found = real(self, competition, quickstarter)
        found["files"][1].update(lie)
        return found

    monkeypatch.setattr(HubClient, "quickstarter", lying)

    result = crunch("quickstarter", "apply", "code", "fresh")

    assert result.exit_code == 1
    assert "nothing was written" in result.stderr
    assert files_under(workspace / "fresh") == {}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["main.py", "main.py/requirements.txt"], "error: the hub named two quickstarter files"),
        (["main.py", "main.py"], "error: the hub named two quickstarter files"),
        (["x.py", "main.py/y.txt"], "error: a folder stands where a file goes"),
    ],
)
def test_names_that_clash_with_each_other_or_the_folder_write_nothing(
    workspace, crunch, monkeypatch, names, message
):
    real = HubClient.quickstarter

    def clashing(self, competition, quickstarter):
        found = real(self, competition, quickstarter)
        for file, name in zip(found["files"], names, strict=True):
            file["name"] = name
        return found

    monkeypatch.setattr(HubClient, "quickstarter", clashing)
    (workspace / "fresh").mkdir()
    (workspace / "fresh" / "main.py").write_text("")

    result = crunch("quickstarter", "apply", "code", "fresh", "--overwrite")

    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert files_under(workspace / "fresh") == {"main.py": b""}
