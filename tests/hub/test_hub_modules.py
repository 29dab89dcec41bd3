"""Competitions that ship their own modules ("unstructured"): registration from any data
folder and a modules folder, the release competitors download, the module sources served
at crunch-cli's competitions-cache path, and the targets and metrics scoring modules get.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import requests
from typer.testing import CliRunner

from crunch_cli.cli import app
from crunch_cli.hub.blobs import content_key
from crunch_cli.hub.competition_modules import run_inputs
from crunch_cli.hub.janitor import Janitor
from crunch_cli.hub.models import Competition, utcnow
from crunch_cli.hub.store import HubStore

NAME = "broad"
RUNNER = b"""\
def run(context, data_directory_path):
    context.execute(command="infer")


def execute(context, module):
    return {"infer": lambda: None}
"""
SCORING = b"""\
from crunch.unstructured import ScoredMetric


def score(target_and_metrics, prediction_directory_path):
    return {metric.id: ScoredMetric(1.0) for _, metrics in target_and_metrics for metric in metrics}
"""


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def organizer(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def modules_dir(tmp_path: Path) -> Path:
    """Laid out like `competitions/<name>/scoring` of a crunchdao/competitions checkout."""
    folder = tmp_path / "scoring"
    folder.mkdir()
    (folder / "runner.py").write_bytes(RUNNER)
    (folder / "scoring.py").write_bytes(SCORING)
    (folder / "README.md").write_text("# notes, not a module\n")
    (folder / "requirements.txt").write_text("pandas\n")
    return folder


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Files of every kind, nested, and a hidden/ folder the release must leave out."""
    folder = tmp_path / "data"
    (folder / "train" / "parts").mkdir(parents=True)
    (folder / "hidden" / "truth").mkdir(parents=True)
    frame = pd.DataFrame(
        {"date": [1, 1, 2], "asset": ["a", "b", "a"], "x": [0.1, 0.2, 0.3]}
    ).set_index(["date", "asset"])
    frame.to_parquet(folder / "X_train.parquet")
    frame.rename(columns={"x": "target"}).to_parquet(folder / "train" / "parts" / "y.parquet")
    (folder / "train" / "model.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (folder / "train" / "meta.json").write_text(json.dumps({"features": ["x"]}))
    (folder / "X_test.csv").write_text("date,asset,x\n3,a,0.4\n")
    (folder / "hidden" / "y_test.parquet").write_bytes(b"hidden targets")
    (folder / "hidden" / "truth" / "labels.csv").write_text("id,label\n1,0\n")
    return folder


RELEASED = {
    "X_test.csv",
    "X_train.parquet",
    "train/meta.json",
    "train/model.pkl",
    "train/parts/y.parquet",
}
HIDDEN = {"y_test.parquet", "truth/labels.csv"}


def create(root: Path, data_dir: Path, modules_dir: Path | None, *extra: str):
    modules = ["--modules", str(modules_dir)] if modules_dir else []
    return organizer("hub", "competition", "create", NAME, "--format", "unstructured",
        "--data-dir", str(data_dir), *modules, "--metric", "spearman", "--root", str(root),
        *extra,
    )  # fmt: skip


def registered(root: Path) -> list[str]:
    listed = organizer("hub", "competition", "list", "--root", str(root)).stdout
    return [line.split()[1] for line in listed.splitlines() if line[:1] == " "]


@pytest.fixture
def competition(hub, data_dir, modules_dir):
    created = create(hub.root, data_dir, modules_dir, "--metric", "hit-rate", "--target", "y")
    assert created.exit_code == 0, created.output
    return hub


def module_url(hub, kind: str, competition: str = NAME) -> str:
    return f"{hub.url}/competitions/{competition}/scoring/{kind}.py"


def release(caller) -> dict:
    response = caller.call(
        "GET", f"/v2/competitions/{NAME}/rounds/@current/phases/submission/data-release"
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_create_reports_every_file_and_module_it_registered(tmp_path, data_dir, modules_dir):
    result = create(tmp_path / "hub", data_dir, modules_dir)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"created competition {NAME} (id 1, UNSTRUCTURED)"
    shown = {(line.split()[0], line.split()[1]) for line in lines[1:]}
    assert shown == {("release", name) for name in RELEASED} | {
        ("hidden", name) for name in HIDDEN
    } | {("module", "runner.py"), ("module", "scoring.py")}
    assert f"sha256 {sha256(RUNNER)[:12]}" in result.stdout


def test_the_release_lists_every_file_by_its_path_and_leaves_hidden_ones_out(
    competition, caller_for, data_dir
):
    body = release(caller_for("alice", "alpha", NAME))

    assert set(body["dataFiles"]) == RELEASED
    for key, entry in body["dataFiles"].items():
        content = (data_dir / key).read_bytes()
        assert entry["name"] == key
        assert (entry["size"], entry["sha256"]) == (len(content), sha256(content))
        assert requests.get(entry["url"]).content == content
    assert body["columnNames"]["targets"][0]["name"] == "y"


def test_the_competition_says_it_is_unstructured(competition):
    body = requests.get(f"{competition.url}/v1/competitions/{NAME}").json()

    assert (body["format"], body["metric"]) == ("UNSTRUCTURED", "spearman")


def test_setup_and_download_bring_nested_files_byte_exact(competition, crunch, tmp_path, data_dir):
    token = competition.mint_token(NAME, "alice", "alpha")

    made = crunch("--api-base-url", competition.url, "setup", NAME, "alpha", "--token", token)

    assert made.exit_code == 0, made.output
    data = tmp_path / f"{NAME}-alpha" / "data"
    files = {path.relative_to(data).as_posix() for path in data.rglob("*") if path.is_file()}
    assert files == RELEASED
    for name in RELEASED:
        assert (data / name).read_bytes() == (data_dir / name).read_bytes()

    (data / "train" / "parts" / "y.parquet").unlink()
    os.chdir(data.parent)
    again = crunch("download")

    assert again.exit_code == 0, again.output
    assert (data / "train/parts/y.parquet").read_bytes() == (
        data_dir / "train/parts/y.parquet"
    ).read_bytes()


def test_modules_are_served_at_the_competitions_cache_path(competition):
    response = requests.get(module_url(competition, "runner"))

    assert response.status_code == 200
    assert response.content == RUNNER
    assert response.headers["content-type"] == "text/x-python; charset=utf-8"
    assert response.headers["etag"] == f'"{sha256(RUNNER)}"'
    assert requests.get(module_url(competition, "scoring")).content == SCORING
    again = requests.get(
        module_url(competition, "runner"), headers={"If-None-Match": response.headers["etag"]}
    )
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(
    ("kind", "competition_name"),
    [
        ("leaderboard", NAME),  # optional, and this one has none
        ("notebook", NAME),  # not a module kind
        ("runner", "demo-timeseries"),  # built-in formats serve no module
        ("runner", "no-such-competition"),
    ],
)
def test_a_module_the_competition_does_not_have_is_404(competition, kind, competition_name):
    response = requests.get(module_url(competition, kind, competition_name))

    assert response.status_code == 404
    assert response.json()["code"] in ("MODULE_NOT_FOUND", "COMPETITION_NAME_NOT_FOUND")


def test_modules_are_also_served_under_the_public_url_path(restartable_hub, data_dir, modules_dir):
    with restartable_hub(workers=0, public_url="http://localhost/crunch") as hub:
        assert create(hub.root, data_dir, modules_dir).exit_code == 0

        response = requests.get(f"{hub.url}/crunch/competitions/{NAME}/scoring/runner.py")

    assert (response.status_code, response.content) == (200, RUNNER)


def test_the_modules_command_replaces_the_sources(competition, modules_dir, tmp_path):
    before = requests.get(module_url(competition, "runner")).headers["etag"]
    replacement = tmp_path / "v2"
    replacement.mkdir()
    runner = RUNNER + b"\n# version 2\n"
    (replacement / "runner.py").write_bytes(runner)
    (replacement / "scoring.py").write_bytes(SCORING)
    (replacement / "leaderboard.py").write_bytes(b"def rank(projects):\n    return []\n")

    result = organizer(
        "hub", "competition", "modules", NAME, str(replacement), "--root", str(competition.root)
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"replaced the modules of {NAME}"
    served = requests.get(module_url(competition, "runner"))
    assert served.content == runner
    assert served.headers["etag"] == f'"{sha256(runner)}"' != before
    assert requests.get(module_url(competition, "leaderboard")).status_code == 200

    organizer(
        "hub", "competition", "modules", NAME, str(modules_dir), "--root", str(competition.root)
    )

    assert requests.get(module_url(competition, "leaderboard")).status_code == 404


def test_a_built_in_competition_takes_no_modules(hub, modules_dir):
    result = organizer("hub", "competition", "modules", "demo-timeseries", str(modules_dir),
        "--root", str(hub.root),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith("error: competition 'demo-timeseries' is TIMESERIES")


def broken_syntax(modules: Path, data: Path) -> str:
    (modules / "runner.py").write_text("def run(context):\n    pass\n\ndef execute(:\n")
    return f"error: {modules / 'runner.py'}:4: "


def no_execute(modules: Path, data: Path) -> str:
    (modules / "runner.py").write_text("def run(context):\n    pass\n")
    return f"error: {modules / 'runner.py'} defines no top-level `execute`"


def no_run(modules: Path, data: Path) -> str:
    (modules / "runner.py").write_text("def execute(context):\n    return {}\n")
    return f"error: {modules / 'runner.py'} defines no top-level `run`"


def nested_score(modules: Path, data: Path) -> str:
    (modules / "scoring.py").write_text("class Scorer:\n    def score(self):\n        pass\n")
    return f"error: {modules / 'scoring.py'} defines no top-level `score`"


def no_scoring(modules: Path, data: Path) -> str:
    (modules / "scoring.py").unlink()
    return f"error: {modules} has no scoring.py"


def linked_module(modules: Path, data: Path) -> str:
    (modules / "scoring.py").unlink()
    (modules / "scoring.py").symlink_to(modules / "runner.py")
    return f"error: {modules / 'scoring.py'} is not a regular file"


def linked_data_file(modules: Path, data: Path) -> str:
    (data / "train" / "secret.txt").symlink_to("/etc/hostname")
    return f"error: {data / 'train' / 'secret.txt'} is a symlink"


def link_to_the_parent(modules: Path, data: Path) -> str:
    (data / "up").symlink_to("..")
    return f"error: {data / 'up'} is a symlink"


def control_character_name(modules: Path, data: Path) -> str:
    (data / "train" / "evil\x1b[2Jname.csv").write_text("a\n")
    return "error: '"


@pytest.mark.parametrize(
    "breakage",
    [
        broken_syntax,
        no_execute,
        no_run,
        nested_score,
        no_scoring,
        linked_module,
        linked_data_file,
        link_to_the_parent,
        control_character_name,
    ],
)
def test_a_bad_folder_is_one_error_and_registers_nothing(tmp_path, data_dir, modules_dir, breakage):
    expected = breakage(modules_dir, data_dir)

    result = create(tmp_path / "hub", data_dir, modules_dir)

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[1].startswith("hint: "), result.stderr
    assert lines[0].startswith(expected)
    assert "Traceback" not in result.output
    assert registered(tmp_path / "hub") == []


def test_a_control_character_in_a_file_name_is_named_and_shown_escaped(
    tmp_path, data_dir, modules_dir
):
    control_character_name(modules_dir, data_dir)

    result = create(tmp_path / "hub", data_dir, modules_dir)

    assert "\x1b" not in result.stderr
    assert "crunch clients refuse this file name (control" in result.stderr


def test_a_bad_replacement_keeps_the_modules_in_place(competition, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "runner.py").write_bytes(RUNNER)
    (broken / "scoring.py").write_text("def score(:\n")

    result = organizer(
        "hub", "competition", "modules", NAME, str(broken), "--root", str(competition.root)
    )

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {broken / 'scoring.py'}:1: ")
    assert requests.get(module_url(competition, "scoring")).content == SCORING


def test_unstructured_options_are_refused_for_a_built_in_format(tmp_path, demo_data, modules_dir):
    result = organizer("hub", "competition", "create", "weather",
        "--data-dir", str(demo_data["timeseries"].folder), "--modules", str(modules_dir),
        "--root", str(tmp_path / "hub"),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith("error: --modules only goes with --format unstructured")


def test_an_unstructured_competition_needs_modules_and_a_metric(tmp_path, data_dir, modules_dir):
    without_modules = create(tmp_path / "hub", data_dir, None)
    without_metric = organizer("hub", "competition", "create", NAME, "--format", "unstructured",
        "--data-dir", str(data_dir), "--modules", str(modules_dir),
        "--root", str(tmp_path / "hub"),
    )  # fmt: skip

    assert without_modules.stderr.startswith("error: an unstructured competition needs its modules")
    assert without_metric.stderr.startswith(
        "error: an unstructured competition needs at least one metric"
    )


def test_metrics_come_with_their_target_the_first_one_ranking(competition):
    base = f"{competition.url}/v1/competitions/{NAME}"

    metrics = requests.get(f"{base}/metrics").json()
    targets = requests.get(f"{base}/targets").json()

    assert [
        (metric["name"], metric["score"], metric["higherIsBetter"], metric["target"]["name"])
        for metric in metrics
    ] == [("spearman", True, True, "y"), ("hit-rate", False, True, "y")]
    assert targets == [
        {"id": targets[0]["id"], "name": "y", "displayName": "y", "virtual": False, "primary": True}
    ]
    assert requests.get(f"{base}/targets/y").json() == targets[0]
    assert requests.get(f"{base}/targets/y/metrics").json() == metrics
    assert requests.get(f"{base}/targets/y/metrics/hit-rate").json() == metrics[1]
    assert requests.get(f"{base}/targets", params={"virtual": "True"}).json() == []
    assert requests.get(f"{base}/targets", params={"name": "target"}).json() == []
    missing_target = requests.get(f"{base}/targets/target/metrics")
    missing_metric = requests.get(f"{base}/targets/y/metrics/rmse")
    assert (missing_target.status_code, missing_target.json()["code"]) == (404, "TARGET_NOT_FOUND")
    assert (missing_metric.status_code, missing_metric.json()["code"]) == (404, "METRIC_NOT_FOUND")


def test_metric_ids_are_distinct_and_the_release_names_the_same_target(competition, caller_for):
    by_id = requests.get(f"{competition.url}/v1/competitions/{NAME}").json()["id"]

    metrics = requests.get(f"{competition.url}/v1/competitions/{by_id}/metrics").json()

    assert len({metric["id"] for metric in metrics}) == 2
    target = release(caller_for("alice", "alpha", NAME))["columnNames"]["targets"][0]
    assert target["id"] == metrics[0]["target"]["id"]


def test_lower_is_better_is_said_of_the_metrics(tmp_path, hub, data_dir, modules_dir):
    created = create(hub.root, data_dir, modules_dir, "--lower-is-better")
    assert created.exit_code == 0, created.output

    metrics = requests.get(f"{hub.url}/v1/competitions/{NAME}/metrics").json()

    assert [(metric["name"], metric["higherIsBetter"]) for metric in metrics] == [
        ("spearman", False)
    ]


def test_a_built_in_competition_has_one_target_and_its_one_metric(hub):
    base = f"{hub.url}/v1/competitions/demo-stream"

    metrics = requests.get(f"{base}/metrics").json()

    assert [(m["name"], m["score"], m["higherIsBetter"]) for m in metrics] == [
        ("rmse", True, False)
    ]
    assert metrics[0]["target"]["name"] == "target"
    assert requests.get(f"{base}/targets").json() == [metrics[0]["target"]]
    assert metrics[0]["unit"] == {"prefix": None, "scale": 6, "suffix": None}


def test_runs_get_the_modules_and_the_hidden_files_by_their_paths(competition, data_dir):
    with HubStore(competition.settings) as store, store.session(write=False) as session:
        row = session.query(Competition).filter_by(name=NAME).one()
        inputs = run_inputs(store, session, row)

        assert inputs.modules == {
            "runner": (RUNNER, sha256(RUNNER)),
            "scoring": (SCORING, sha256(SCORING)),
        }
        assert set(inputs.hidden_files) == HIDDEN
        for name, path in inputs.hidden_files.items():
            assert path.read_bytes() == (data_dir / "hidden" / name).read_bytes()


def test_the_janitor_keeps_the_modules_in_use_and_removes_replaced_ones(competition, tmp_path):
    replacement = tmp_path / "v2"
    replacement.mkdir()
    runner = RUNNER + b"\n# version 2\n"
    (replacement / "runner.py").write_bytes(runner)
    (replacement / "scoring.py").write_bytes(SCORING)
    hub_cli = ("hub", "competition", "modules", NAME, str(replacement))
    assert organizer(*hub_cli, "--root", str(competition.root)).exit_code == 0
    blobs = competition.settings.blobs_dir

    with HubStore(competition.settings) as store:
        swept = Janitor(store).sweep(utcnow() + timedelta(days=2))

    assert swept.blobs == 1
    assert not (blobs / content_key(sha256(RUNNER))).exists()
    assert requests.get(module_url(competition, "runner")).content == runner
    assert requests.get(module_url(competition, "scoring")).content == SCORING
