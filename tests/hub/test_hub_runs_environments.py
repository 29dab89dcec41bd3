"""The Python a run gets: the hub's own when it satisfies the requirements, else an
environment built once for them (pip from a local wheel folder, no network needed).
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from test_hub_runs import push

EXTRA = "crunch-demo-extra"
SHOWS_ITS_PYTHON = b"""\
import sys


def train(X_train, y_train, model_directory_path):
    pass


def infer(X_test, model_directory_path):
    print("python:", sys.executable)
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""
USES_EXTRA = SHOWS_ITS_PYTHON.replace(
    b"import sys\n",
    b"import sys\n\nimport crunch_demo_extra\n\nprint('extra', crunch_demo_extra.VERSION)\n",
)


def printed_python(caller, run_id: int) -> Path:
    lines = [line["content"] for line in caller.run_logs(run_id)]
    return real_folders(
        next(line.removeprefix("python: ") for line in lines if line.startswith("python: "))
    )


def real_folders(path: str | Path) -> Path:
    """`path` with the links among its folders resolved, but not the file itself: a folder
    can have several names (a temporary or checkout folder reached through a link), while an
    environment's `bin/python` is itself a link to the base interpreter, and which environment
    ran the code is what these tests check."""
    path = Path(path)
    return path.parent.resolve() / path.name


def test_a_run_whose_pins_the_hub_satisfies_uses_the_hubs_own_python(hub, caller):
    pins = f"pandas=={version('pandas')}\n".encode()
    submission = push(caller, SHOWS_ITS_PYTHON, **{"requirements.txt": pins})

    run = caller.wait_for_run(caller.create_run(submission["id"])["id"])

    assert run["success"] is True, run
    assert printed_python(caller, run["id"]) == real_folders(sys.executable)
    assert not (hub.root / "environments").exists()


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip finds packages only in this folder, as a hub with its own index would."""
    folder = tmp_path / "wheels"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    return folder


def test_requirements_the_hub_lacks_get_an_environment_built_once_then_reused(
    hub_root, restartable_hub, new_caller, local_index, build_wheel
):
    build_wheel(local_index, EXTRA, "1.0")
    (hub_root / "libraries.json").write_text(f'[{{"name": "{EXTRA}"}}]')
    with restartable_hub() as hub:
        caller = new_caller(hub)
        requirements = {"requirements.txt": f"{EXTRA}==1.0\npandas\n".encode()}
        first = caller.create_run(push(caller, USES_EXTRA, **requirements)["id"])
        second = caller.create_run(push(caller, USES_EXTRA, **requirements)["id"])
        runs = [caller.wait_for_run(first["id"]), caller.wait_for_run(second["id"])]
        logs = [[line["content"] for line in caller.run_logs(run["id"])] for run in runs]
        pythons = [printed_python(caller, run["id"]) for run in runs]

    assert [run["success"] for run in runs] == [True, True], runs
    assert all("extra 1.0" in lines for lines in logs)
    (built,) = (hub_root / "environments").glob("*/bin/python")
    shown = Path("/hub") / built.relative_to(hub_root)  # logs name the hub's folder /hub
    assert pythons == [shown, shown]
    assert any(line.startswith("building an environment") for line in logs[0])
    assert any(line.startswith("using the environment") for line in logs[1])
    assert runs[0]["score"] == runs[1]["score"]


def test_requirements_pip_cannot_install_fail_the_run_with_pips_reason(
    hub_root, restartable_hub, new_caller, local_index
):
    (hub_root / "libraries.json").write_text(f'[{{"name": "{EXTRA}"}}]')
    with restartable_hub() as hub:
        caller = new_caller(hub)
        submission = push(caller, USES_EXTRA, **{"requirements.txt": f"{EXTRA}==9.9\n".encode()})
        run = caller.wait_for_run(caller.create_run(submission["id"])["id"])
        logs = [line["content"] for line in caller.run_logs(run["id"])]

    assert (run["success"], run["exitReason"]) == (False, "error")
    assert run["errorMessage"].startswith(
        "the hub could not run this submission: pip could not install the requirements"
    )
    assert any(f"No matching distribution found for {EXTRA}==9.9" in line for line in logs)
    assert not list((hub_root / "environments").glob("*/bin"))
