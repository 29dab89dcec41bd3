"""`crunch hub ...`: what an organizer types, and what they see when it goes wrong."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys

import requests
from typer.testing import CliRunner

from crunch_cli.cli import app


def crunch(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_an_organizer_creates_and_lists_a_competition(tmp_path, demo_data):
    root = tmp_path / "hub"

    created = crunch(
        "hub", "competition", "create", "weather",
        "--data-dir", str(demo_data["timeseries"].folder), "--embargo", "3", "--root", str(root),
    )  # fmt: skip
    listed = crunch("hub", "competition", "list", "--root", str(root))

    assert created.exit_code == 0, created.output
    assert created.stdout.startswith("created competition weather (id 1, TIMESERIES)\n")
    assert "hidden   X_test" in created.stdout
    assert listed.stdout.split() == ["1", "weather", "TIMESERIES", "spearman"]


def test_create_with_a_missing_file_says_which_and_registers_nothing(tmp_path, demo_data):
    data = tmp_path / "data"
    shutil.copytree(demo_data["timeseries"].folder, data)
    (data / "y_train.parquet").unlink()
    root = tmp_path / "hub"

    result = crunch(
        "hub", "competition", "create", "weather", "--data-dir", str(data), "--root", str(root)
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {data / 'y_train.parquet'}: missing: a data folder needs X_train, y_train, "
        "X_test and example_prediction (see `crunch hub demo-data`)",
        "hint: nothing was registered; fix the files, or name the columns with --id-column, "
        "--moon-column, --target-column, --prediction-column",
    ]
    assert "Traceback" not in result.output
    assert not root.exists()  # not even an empty hub is left behind


def test_create_with_a_missing_column_names_it_and_the_option_to_fix(tmp_path, demo_data):
    result = crunch(
        "hub", "competition", "create", "weather",
        "--data-dir", str(demo_data["timeseries"].folder), "--moon-column", "era",
        "--root", str(tmp_path / "hub"),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: the data in {demo_data['timeseries'].folder} has 7 problems:\n"
        f"  - {demo_data['timeseries'].folder / 'X_train.parquet'}: no column 'era'"
    )
    assert "--moon-column" in result.stderr


def test_create_with_an_unreadable_file_says_it_is_not_parquet(tmp_path, demo_data):
    data = tmp_path / "data"
    shutil.copytree(demo_data["stream"].folder, data)
    (data / "X_test.parquet").write_text("id,moon,x\n")

    result = crunch(
        "hub", "competition", "create", "s", "--data-dir", str(data), "--format", "stream",
        "--root", str(tmp_path / "hub"),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {data / 'X_test.parquet'}: cannot be read as parquet")


def test_a_second_competition_with_the_same_name_is_refused(hub, demo_data):
    result = crunch(
        "hub", "competition", "create", "demo-stream",
        "--data-dir", str(demo_data["stream"].folder), "--format", "stream",
        "--root", str(hub.root),
    )  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.startswith("error: a competition named 'demo-stream' already exists")


def test_an_unknown_format_is_refused_by_the_option_parser(tmp_path, demo_data):
    result = crunch(
        "hub", "competition", "create", "x", "--data-dir", str(demo_data["stream"].folder),
        "--format", "tabular", "--root", str(tmp_path),
    )  # fmt: skip

    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.output


def test_token_prints_a_setup_line_that_works(hub, tmp_path, monkeypatch, parse_setup_line):
    result = crunch(
        "hub", "token", "demo-stream", "carol", "gamma", "--root", str(hub.root), "--url", hub.url
    )

    assert result.exit_code == 0, result.output
    token, arguments = parse_setup_line(result.stdout.splitlines()[-1])
    assert arguments[:5] == ["--api-base-url", hub.url, "setup", "demo-stream", "gamma"]
    monkeypatch.chdir(tmp_path)
    setup = crunch(*arguments, input=token)
    assert setup.exit_code == 0, setup.output
    assert (tmp_path / "demo-stream-gamma" / "data" / "X_train.parquet").is_file()


def test_token_for_an_unknown_competition_points_to_the_list(hub):
    result = crunch("hub", "token", "nope", "carol", "gamma", "--root", str(hub.root))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: no competition named 'nope' on this hub",
        "hint: run `crunch hub competition list` to see them",
    ]


def test_demo_data_writes_a_folder_that_competition_create_accepts(tmp_path):
    folder = tmp_path / "data"

    written = crunch("hub", "demo-data", str(folder), "--format", "cross-sectional")
    created = crunch(
        "hub", "competition", "create", "mine", "--data-dir", str(folder),
        "--format", "cross-sectional", "--root", str(tmp_path / "hub"),
    )  # fmt: skip

    assert written.exit_code == 0, written.output
    assert "  hidden/y_test.parquet" in written.stdout.splitlines()
    assert created.exit_code == 0, created.output


def test_demo_data_refuses_a_non_empty_folder_without_force(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")

    refused = crunch("hub", "demo-data", str(tmp_path))
    forced = crunch("hub", "demo-data", str(tmp_path), "--force")

    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"error: {tmp_path} is not empty")
    assert forced.exit_code == 0
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_serve_with_demo_prints_setup_lines_that_reach_the_hub(tmp_path, parse_setup_line):
    process = subprocess.Popen(
        [sys.executable, "-m", "crunch_cli", "hub", "serve", "--port", "0", "--demo",
         "--root", str(tmp_path / "hub")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lines = [process.stdout.readline() for _ in range(6)]
        setup_lines = [parse_setup_line(line) for line in lines if " setup " in line]
        token, arguments = setup_lines[0]
        url = arguments[1]
        upgraded = requests.post(f"{url}/v2/project-tokens/upgrade", json={"cloneToken": token})
    finally:
        process.terminate()
        process.wait(10)

    assert lines[0] == f"crunch hub serving at {url} (root: {tmp_path / 'hub'})\n"
    assert [arguments[3] for _, arguments in setup_lines] == [
        "demo-timeseries", "demo-cross-sectional", "demo-stream",
    ]  # fmt: skip
    assert upgraded.json()["project"]["name"] == "starter"


def test_an_organizer_tightens_a_limit_and_the_hub_enforces_it(hub, caller):
    result = crunch(
        "hub", "competition", "limits", "demo-timeseries", "--submissions-per-day", "1",
        "--root", str(hub.root),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "submissions-per-day      1" in result.stdout.splitlines()
    assert "max-code-size            52428800" in result.stdout.splitlines()
    main = b"def train():\n    pass\n\n\ndef infer():\n    pass\n"
    assert caller.submit({"main.py": main}).status_code == 200
    assert caller.submit({"main.py": main}).json()["code"] == "DAILY_SUBMISSION_LIMIT_EXCEEDED"


def test_limits_of_an_unknown_competition_fail_clearly(hub):
    result = crunch("hub", "competition", "limits", "nope", "--root", str(hub.root))

    assert result.exit_code == 1
    assert result.stderr.startswith("error: no competition named 'nope' on this hub")


def test_serve_on_a_busy_port_says_so_and_how_to_fix_it(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = crunch("hub", "serve", "--port", str(port), "--root", str(tmp_path / "hub"))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use",
        "hint: pick another --port, or stop whatever is using this one",
    ]


def test_an_organizer_command_outside_a_hub_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRUNCH_HUB_ROOT", raising=False)

    listed = crunch("hub", "competition", "list")
    token = crunch("hub", "token", "c", "alice", "alpha", "--root", str(tmp_path / "elsewhere"))

    assert listed.exit_code == 1
    assert listed.stderr.splitlines() == [
        f"error: there is no hub in {tmp_path / 'crunch-hub'}",
        "hint: pass the folder `crunch hub serve` uses with --root DIR (or set CRUNCH_HUB_ROOT)",
    ]
    assert token.exit_code == 1
    assert token.stderr.startswith(f"error: there is no hub in {tmp_path / 'elsewhere'}")
    assert not (tmp_path / "crunch-hub").exists() and not (tmp_path / "elsewhere").exists()


def test_token_prints_the_url_of_the_hub_serving_the_root(hub):
    minted = crunch("hub", "token", "demo-timeseries", "carol", "gamma", "--root", str(hub.root))

    assert minted.exit_code == 0, minted.output
    assert f"--api-base-url {hub.url} " in minted.stdout or f"{hub.url}" in minted.stdout
    assert "127.0.0.1:8000" not in minted.stdout
