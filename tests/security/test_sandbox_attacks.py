"""Hostile submissions against a real hub: each one tries an attack from inside its run and
prints what it got; the hub must survive, and nothing it holds may reach the submission.

The attacks are the ones a participant who read the hub's source would try: undo the mounts
that hide things, read the hub's key, database and hidden targets by their host paths, look
for them anywhere on the file system, read the hub's environment or other processes, signal
the hub, fork without end, fill the disk, leave a daemon behind for later runs, reach the
network through `_socket`, write into the hub's code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest
import requests

import crunch_cli
from crunch_cli.hub import executor
from crunch_cli.runner import sandbox
from crunch_cli.runner.cgroup import ProcessGroup

if TYPE_CHECKING:
    from hubs import Caller, Hub

pytestmark = pytest.mark.skipif(
    sandbox.bubblewrap_problem() is not None, reason="bubblewrap cannot run on this machine"
)

INFER = """

def infer(X_test, model_directory_path):
    return X_test[["id", "moon"]].assign(prediction=X_test["feature_00"])
"""


def attack(caller: Caller, train_body: str, prelude: str = "") -> tuple[dict, list[str]]:
    """Run a submission whose train() is `train_body`; returns the run and its user lines."""
    code = (
        "import os, sys, subprocess, time, pathlib, glob\n"
        + textwrap.dedent(prelude)
        + "\nATTACKED = []\n\ndef train(X_train, y_train, model_directory_path):\n"
        + "    if ATTACKED:\n        return\n    ATTACKED.append(True)\n"  # once, not per moon
        + textwrap.indent(textwrap.dedent(train_body), "    ")
        + INFER
    )
    response = caller.submit({"main.py": code.encode()})
    assert response.status_code == 200, response.text
    run = caller.wait_for_run(caller.create_run(response.json()["id"])["id"], timeout=120)
    lines = [line["content"] for line in caller.run_logs(run["id"])]
    return run, lines


def said(lines: list[str], prefix: str) -> str:
    found = [line for line in lines if line.startswith(prefix)]
    assert found, (prefix, lines[-20:])
    return found[-1].removeprefix(prefix).strip()


def hub_answers(hub: Hub) -> bool:
    return requests.get(f"{hub.url}/v2/competitions", timeout=10).status_code == 200


def test_a_submission_cannot_unmount_or_remount_anything(caller, hub):
    run, lines = attack(
        caller,
        """
        for command in (
            ["umount", "-l", "/data"],
            ["umount", "-l", "/"],
            ["mount", "-t", "tmpfs", "tmpfs", "/submission"],
            ["mount", "-o", "remount,rw", "/data"],
            ["unshare", "--user", "--map-root-user", "--mount", "true"],
        ):
            done = subprocess.run(command, capture_output=True)
            print("attempt:", command[0], command[-1], "->", done.returncode)
        try:
            pathlib.Path("/data/X_test.parquet").write_bytes(b"x")
            print("wrote the test features")
        except OSError as error:
            print("write refused:", error.strerror)
        status = pathlib.Path("/proc/self/status").read_text()
        print("uid:", os.getuid(), "caps:", status.split("CapEff:")[1].split()[0])
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    attempts = [line for line in lines if line.startswith("attempt:")]
    assert len(attempts) == 5 and all(not line.endswith("-> 0") for line in attempts), attempts
    assert said(lines, "write refused:") == "Read-only file system"
    assert said(lines, "uid:") == "65534 caps: 0000000000000000"
    assert hub_answers(hub)


def test_the_hubs_key_database_blobs_and_hidden_targets_are_absent(caller, hub):
    secret_paths = [
        hub.root,
        hub.root / "secret",
        hub.root / "hub.sqlite3",
        hub.root / "blobs",
        hub.blob_path("demo-timeseries", "X_train").parent.parent,
        hub.root / "runs",
    ]
    run, lines = attack(
        caller,
        f"""
        for path in {[str(path) for path in secret_paths]!r}:
            print("exists:", os.path.exists(path), path)
        names, data = set(), set()
        for top in os.listdir("/"):
            if top in ("proc", "sys", "dev"):
                continue
            for folder, _dirs, files in os.walk("/" + top):
                names.update(files)
                if "site-packages" not in folder:  # libraries ship test data of their own
                    data.update(name for name in files if name.endswith(".parquet"))
        print("sqlite files:", sorted(n for n in names if n.startswith("hub.sqlite3")))
        print("secret files:", sorted(n for n in names if n == "secret"))
        print("parquet files:", sorted(data))
        print("top level:", sorted(os.listdir("/")))
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    exists = [line for line in lines if line.startswith("exists:")]
    assert len(exists) == len(secret_paths)
    assert all(line.startswith("exists: False") for line in exists), exists
    assert said(lines, "sqlite files:") == "[]"
    assert said(lines, "secret files:") == "[]"
    # The data it is given, nothing more: no y_test, no other competition's files.
    assert (
        said(lines, "parquet files:") == "['X_test.parquet', 'X_train.parquet', 'y_train.parquet']"
    )
    assert (hub.root / "hub.sqlite3").stat().st_size > 0


def test_the_hubs_environment_and_other_processes_are_out_of_sight(caller, hub, monkeypatch):
    monkeypatch.setenv("CRUNCH_HUB_TEST_SECRET", "do-not-leak-4242")
    run, lines = attack(
        caller,
        """
        print("environment:", sorted(os.environ))
        print("leaked:", any("4242" in value for value in os.environ.values()))
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print("pids:", pids)
        commands = []
        for pid in pids:
            try:
                command = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
                commands.append(command.replace(b"\\0", b" ").decode())
            except OSError:
                pass
        print("hub visible:", any("pytest" in c or "uvicorn" in c for c in commands))
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # the listing's own descriptor, closed by now
                pass
        print("host files open:", [link for link in links if link.startswith("/") and
                                   not link.startswith(("/dev/", "/proc/", "/submission"))])
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    assert said(lines, "leaked:") == "False"
    assert "CRUNCH_HUB_TEST_SECRET" not in said(lines, "environment:")
    assert said(lines, "hub visible:") == "False"
    assert said(lines, "host files open:") == "[]"
    assert max(eval(said(lines, "pids:"))) < 100  # its own namespace: a handful of pids


def test_signalling_the_hub_kills_nothing_outside(caller, hub):
    run, _lines = attack(
        caller,
        """
        for target in (os.getppid(), 1):
            try:
                os.kill(target, 9)
                print("signalled", target)
            except OSError as error:
                print("refused", target, error.strerror)
        os.kill(-1, 9)  # everything it may signal
        """,
    )

    assert hub_answers(hub)
    assert run["status"] == "COMPLETED"
    assert os.getpid() == psutil.Process().pid  # this test process, which hosts the hub, lives


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch, hub: Hub) -> Iterator[None]:
    """Limits a test can reach in a second: the hub's own constants, and a competition
    whose model files are small (runs may write twice the model size)."""
    monkeypatch.setattr(executor, "MAX_PROCESSES", 64)
    monkeypatch.setattr(executor, "MIN_WRITE_BYTES", 32 << 20)
    hub.set_limits("demo-timeseries", max_model_size=1 << 20)
    yield


def _process_limit_holds() -> bool:
    """As root, only a pids cgroup holds a fork bomb (the kernel exempts root's rlimit)."""
    if os.geteuid() != 0:
        return True
    group = ProcessGroup.create(8)
    if group is None:
        return False
    group.remove()
    return True


@pytest.mark.skipif(not _process_limit_holds(), reason="no pids cgroup for a root hub here")
def test_a_fork_bomb_ends_the_run_and_nothing_else(caller, hub, small_limits):
    run, lines = attack(
        caller,
        """
        children = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(600)
                    os._exit(0)
                children += 1
        except OSError as error:
            print("fork refused after", children, error.strerror)
        time.sleep(5)
        """,
    )

    assert run["success"] is False
    assert run["exitReason"] == "processes", (run, lines[-10:])
    assert "processes and threads, the limit" in run["errorMessage"]
    assert hub_answers(hub)
    assert not _leftover("time.sleep(600)") and not _sleepers()


def test_filling_the_disk_ends_the_run_with_a_readable_reason(caller, hub, small_limits):
    run, lines = attack(
        caller,
        """
        try:
            with open("/tmp/fill", "wb") as scratch:
                while True:
                    scratch.write(b"x" * (1 << 20))
        except OSError as error:
            print("scratch full:", error.strerror)
        for number in range(10_000):  # many files, each under the file size limit
            with open(f"filler-{number}.bin", "wb") as file:
                file.write(b"x" * (1 << 20))
            time.sleep(0.002)
        """,
    )

    assert run["success"] is False
    assert said(lines, "scratch full:") in ("No space left on device", "File too large")
    assert run["exitReason"] == "disk", (run, lines[-10:])
    assert "past the limit of 32 MiB" in run["errorMessage"]
    assert not (hub.root / "runs" / str(run["id"])).exists()
    assert hub_answers(hub)


def test_a_daemon_left_behind_dies_with_its_run(caller, hub):
    run, lines = attack(
        caller,
        """
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                subprocess.Popen(["sleep", "733.5"]).wait()
                os._exit(0)
            os._exit(0)
        time.sleep(0.5)
        print("daemon started")
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    assert said(lines, "daemon started") == ""
    deadline = time.monotonic() + 10
    while _leftover("733.5") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _leftover("733.5")


def test_the_network_is_out_of_reach_even_through_raw_sockets(caller, hub):
    port = int(hub.url.rsplit(":", 1)[1])
    run, lines = attack(
        caller,
        f"""
        import _socket
        try:
            raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            raw.settimeout(3)
            raw.connect(("127.0.0.1", {port}))
            print("reached the hub")
        except OSError as error:
            print("network refused:", type(error).__name__)
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    assert said(lines, "network refused:") in ("ConnectionRefusedError", "OSError", "TimeoutError")
    assert "reached the hub" not in lines


def test_the_hubs_own_code_cannot_be_changed(caller, hub):
    target = Path(crunch_cli.__file__).parent / "hub" / "executor.py"
    before = target.read_bytes()
    run, lines = attack(
        caller,
        f"""
        try:
            with open({str(target)!r}, "a") as file:
                file.write("# owned")
            print("changed the hub")
        except OSError as error:
            print("hub code refused:", error.strerror)
        """,
    )

    assert run["success"] is True, (run, lines[-10:])
    assert said(lines, "hub code refused:") == "Read-only file system"
    assert target.read_bytes() == before


def _leftover(argument: str) -> bool:
    for process in psutil.process_iter(["cmdline"]):
        if any(argument in part for part in process.info["cmdline"] or []):
            return True
    return False


def _sleepers() -> bool:
    """Processes of a fork bomb still sleeping in `time.sleep(600)`: forked pythons."""
    me = psutil.Process()
    return any(
        child.name().startswith("python") and child.status() == psutil.STATUS_SLEEPING
        for child in me.children(recursive=True)
        if child.pid != me.pid and "crunch_cli.runner.child" in " ".join(child.cmdline())
    )


def test_a_requirement_that_only_exists_as_source_is_never_built(
    hub_root, restartable_hub, new_caller, tmp_path, monkeypatch
):
    index = tmp_path / "index"
    index.mkdir()
    marker = tmp_path / "the-build-hook-ran"
    _write_sdist(index, "crunch-evil", "1.0", f"open({str(marker)!r}, 'w').write('owned')")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    (hub_root / "libraries.json").write_text('[{"name": "crunch-evil"}]')
    with restartable_hub() as hub:
        caller = new_caller(hub)
        response = caller.submit(
            {"main.py": INFER.encode(), "requirements.txt": b"crunch-evil==1.0\n"}
        )
        assert response.status_code == 200, response.text
        run = caller.wait_for_run(caller.create_run(response.json()["id"])["id"], timeout=120)
        lines = [line["content"] for line in caller.run_logs(run["id"])]

    assert (run["success"], run["exitReason"]) == (False, "error")
    assert "pip could not install the requirements" in run["errorMessage"]
    assert any("No matching distribution found for crunch-evil==1.0" in line for line in lines)
    assert not marker.exists()


def _write_sdist(folder: Path, name: str, version: str, hook: str) -> None:
    """A source distribution whose setup.py runs `hook`: what pip would run to build it."""
    import io
    import tarfile

    base = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{base}/setup.py": f"{hook}\nfrom setuptools import setup\nsetup(name={name!r}, "
        f"version={version!r})\n",
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    with tarfile.open(folder / f"{base}.tar.gz", "w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_a_hub_killed_mid_run_leaves_no_run_process_and_no_run_folder(
    hub_root, hub_process_at, new_caller
):
    """`kill -9` of the hub: the run's processes die with it (bubblewrap's parent-death
    signal), and the hub that starts next on the root removes the run's folder."""
    crunch = Path(sys.executable).with_name("crunch")
    serve = [str(crunch), "hub", "serve", "--root", str(hub_root), "--port", "0"]
    first = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        caller = new_caller(hub_process_at(_started(first)))
        response = caller.submit(
            {"main.py": (_SLEEPER + INFER).encode()},
        )
        assert response.status_code == 200, response.text
        run_id = caller.create_run(response.json()["id"])["id"]
        deadline = time.monotonic() + 60
        while not _leftover("955.25"):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.1)
        assert (hub_root / "runs" / str(run_id)).is_dir()
    finally:
        first.kill()
        first.wait()

    deadline = time.monotonic() + 10
    while _leftover("955.25") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _leftover("955.25")

    second = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        run = new_caller(hub_process_at(_started(second))).run(run_id)
    finally:
        second.terminate()
        second.wait(30)
    assert (run["status"], run["success"]) == ("COMPLETED", False)
    assert not (hub_root / "runs" / str(run_id)).exists()


_SLEEPER = """
import subprocess


def train(X_train, y_train, model_directory_path):
    subprocess.run(["sleep", "955.25"])
"""


def _started(process: subprocess.Popen[str]) -> str:
    """The URL a `crunch hub serve` process announces once it listens."""
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("crunch hub serving at "), line
    return line.split()[4]


def test_a_package_that_runs_code_at_python_start_up_runs_it_only_inside_the_sandbox(
    hub_root, restartable_hub, new_caller, tmp_path, monkeypatch, build_wheel
):
    index = tmp_path / "index"
    index.mkdir()
    marker = tmp_path / "the-pth-file-ran-outside"
    hook = f"import os; open({str(marker)!r}, 'w').write(str(os.getuid()))\n"
    build_wheel(index, "crunch-startup-hook", "1.0", {"crunch_startup_hook.pth": hook})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    (hub_root / "libraries.json").write_text('[{"name": "crunch-startup-hook"}]')
    with restartable_hub() as hub:
        caller = new_caller(hub)
        requirements = b"crunch-startup-hook==1.0\n"
        main = ("def train():\n    pass\n" + INFER).encode()
        response = caller.submit({"main.py": main, "requirements.txt": requirements})
        assert response.status_code == 200, response.text
        first = caller.wait_for_run(caller.create_run(response.json()["id"])["id"], timeout=120)
        # As a hub started later would: it has never looked at that environment yet.
        sandbox._interpreter_facts.cache_clear()
        second = caller.wait_for_run(caller.create_run(response.json()["id"])["id"], timeout=120)
        lines = [line["content"] for line in caller.run_logs(second["id"])]

    assert first["success"] is True, first
    assert second["success"] is True, (second, lines[-10:])
    assert any(line.startswith("using the environment") for line in lines)
    assert not marker.exists()
