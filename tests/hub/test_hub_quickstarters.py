"""A competition's quickstarters on the hub: the package's templates for a built-in format,
and those an organizer adds with `crunch hub competition quickstarter add`."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import requests
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.models import QuickstarterFile, utcnow
from crunch_cli.hub.store import HubStore

TEMPLATES = Path(__file__).resolve().parents[2] / "crunch_cli" / "templates"
BASE = "/v2/competitions/demo-timeseries/quickstarters"


def crunch(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def add(hub, *files: Path, name: str | None = None, competition: str = "demo-timeseries"):
    options = ["--name", name] if name else []
    return crunch(
        "hub", "competition", "quickstarter", "add", competition,
        *map(str, files), *options, "--root", str(hub.root),
    )  # fmt: skip


def write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content)
    return path


def test_a_built_in_format_offers_its_template_as_a_notebook_and_a_code_quickstarter(hub):
    listed = requests.get(hub.url + BASE).json()

    assert [(item["name"], item["notebook"], item["language"]) for item in listed] == [
        ("notebook", True, "PYTHON"),
        ("code", False, "PYTHON"),
    ]
    assert all(item["id"] < 0 and item["authors"] == [] for item in listed)
    shown = requests.get(f"{hub.url}{BASE}/notebook").json()
    assert [file["name"] for file in shown["files"]] == ["main.ipynb", "requirements.txt"]
    for file in shown["files"]:
        expected = (TEMPLATES / "timeseries" / file["name"]).read_bytes()
        served = requests.get(file["url"])
        assert served.content == expected
        assert served.headers["ETag"] == f'"{hashlib.sha256(expected).hexdigest()}"'
        assert (file["size"], file["sha256"]) == (
            len(expected),
            hashlib.sha256(expected).hexdigest(),
        )


def test_an_organizer_adds_a_quickstarter_and_can_replace_a_built_in_one(hub, tmp_path):
    script = write(tmp_path, "baseline.py", "def train(): ...\n")
    notebook = write(tmp_path, "explore.ipynb", "{}\n")

    added = add(hub, script, notebook)
    replaced = add(hub, write(tmp_path, "main.py", "# ours\n"), name="code")

    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("added quickstarter baseline to demo-timeseries\n")
    assert replaced.exit_code == 0, replaced.output
    listed = requests.get(hub.url + BASE).json()
    assert [(item["name"], item["notebook"]) for item in listed] == [
        ("notebook", True),
        ("code", False),
        ("baseline", True),
    ]
    baseline = requests.get(f"{hub.url}{BASE}/baseline").json()
    # A notebook goes first: that is how crunch-cli tells a notebook quickstarter.
    assert [file["name"] for file in baseline["files"]] == ["explore.ipynb", "baseline.py"]
    assert requests.get(baseline["files"][1]["url"]).content == script.read_bytes()
    code = requests.get(f"{hub.url}{BASE}/code").json()
    assert [file["name"] for file in code["files"]] == ["main.py"]
    assert requests.get(code["files"][0]["url"]).text == "# ours\n"


def test_unknown_quickstarters_and_files_are_404_with_their_codes(hub):
    missing = requests.get(f"{hub.url}{BASE}/nope")
    no_file = requests.get(f"{hub.url}{BASE}/code/files/secret.txt")

    assert missing.status_code == 404
    assert missing.json()["code"] == "QUICKSTARTER_NOT_FOUND"
    assert missing.json()["quickstarterName"] == "nope"
    assert no_file.status_code == 404
    assert no_file.json()["code"] == "QUICKSTARTER_FILE_NOT_FOUND"


def test_a_damaged_stored_file_is_refused_not_served(hub, tmp_path):
    add(hub, write(tmp_path, "starter.py", "print('hi')\n"))
    with HubStore(hub.settings) as store, store.session() as session:
        key = session.query(QuickstarterFile.blob_key).one()[0]
        path = store.blobs.path(key)
    path.chmod(0o644)
    path.write_text("print('pwned')\n")

    served = requests.get(f"{hub.url}{BASE}/starter/files/starter.py")

    assert served.status_code == 500
    assert served.json()["code"] == "QUICKSTARTER_DAMAGED"


def test_the_janitor_keeps_the_blobs_of_quickstarters(hub, tmp_path):
    add(hub, write(tmp_path, "starter.py", "print('kept')\n"))

    with HubStore(hub.settings) as store:
        Janitor(store).sweep(utcnow() + timedelta(days=2))

    assert requests.get(f"{hub.url}{BASE}/starter/files/starter.py").text == "print('kept')\n"


def test_add_refuses_files_that_would_collide_or_a_bad_name_and_stores_nothing(hub, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    twice = add(hub, write(tmp_path / "a", "main.py", "1"), write(tmp_path / "b", "main.py", "2"))
    bad = add(hub, write(tmp_path, "x.py", ""), name="../x")
    unknown = add(hub, tmp_path / "x.py", competition="nope")

    assert (twice.exit_code, bad.exit_code, unknown.exit_code) == (1, 1, 1)
    assert twice.stderr.startswith("error: two files are named main.py\n")
    assert bad.stderr.startswith("error: invalid quickstarter name '../x'\n")
    assert unknown.stderr.startswith("error: no competition named 'nope' on this hub\n")
    assert [item["name"] for item in requests.get(hub.url + BASE).json()] == ["notebook", "code"]


def test_an_unstructured_competition_has_only_its_organizers_quickstarters(hub, tmp_path):
    from crunch_cli.hub.models import Competition

    with HubStore(hub.settings) as store, store.session() as session:
        row = session.query(Competition).filter_by(name="demo-stream").one()
        row.format = "UNSTRUCTURED"

    assert requests.get(f"{hub.url}/v2/competitions/demo-stream/quickstarters").json() == []
