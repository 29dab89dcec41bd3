"""The public `crunch-cli`, installed from the package index into a throwaway venv.

The venv is built once per session. With `XDG_CACHE_HOME` set it lives (and is reused) under
`$XDG_CACHE_HOME/crunch-interop/`, guarded by a file lock so two sessions never build it at
once; otherwise it goes into pytest's temporary folder and is built fresh. When the package
cannot be installed (no network, no wheel for this Python), every test here skips with the
reason pip gave.

Both clients run as real subprocesses with a clean environment: only a PATH, a throwaway
HOME and a locale, so no CRUNCH_* variable or user configuration of the test run leaks in.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PUBLIC_VERSION = "13.0.1"
INSTALL_TIMEOUT_S = 300
COMMAND_TIMEOUT_S = 120
_READY_MARKER = "installed-ok"


def _venv_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = os.environ.get("XDG_CACHE_HOME")
    if cache:
        return Path(cache) / "crunch-interop"
    return tmp_path_factory.mktemp("crunch-interop")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _build_venv(venv: Path) -> None:
    """Create the venv and install the public client; skip the tests when that fails."""
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"crunch-cli=={PUBLIC_VERSION}",
        ],
    ]
    for step in steps:
        try:
            done = subprocess.run(
                step, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            pytest.skip(f"crunch-cli {PUBLIC_VERSION} could not be installed: pip timed out")
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            pytest.skip(
                f"crunch-cli {PUBLIC_VERSION} could not be installed: "
                f"{_last_line(done.stderr or done.stdout)}"
            )
    (venv / _READY_MARKER).write_text(PUBLIC_VERSION)


@pytest.fixture(scope="session")
def public_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding crunch-cli==PUBLIC_VERSION, reused while it is complete."""
    home = _venv_home(tmp_path_factory)
    home.mkdir(parents=True, exist_ok=True)
    venv = home / f"crunch-cli-{PUBLIC_VERSION}-py{sys.version_info[0]}{sys.version_info[1]}"
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        marker = venv / _READY_MARKER
        if not (marker.is_file() and marker.read_text() == PUBLIC_VERSION):
            _build_venv(venv)
    return venv


def clean_env(home: Path, bin_dir: Path | None = None) -> dict[str, str]:
    """Only what a command needs to run: nothing of the test run's own configuration."""
    dirs = ["/usr/local/bin", "/usr/bin", "/bin"]
    if bin_dir is not None:
        dirs.insert(0, str(bin_dir))
    return {
        "PATH": os.pathsep.join(dirs),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


@dataclasses.dataclass(frozen=True)
class Cli:
    """One command-line client pointed at one hub, run as a subprocess."""

    argv: tuple[str, ...]
    home: Path
    bin_dir: Path | None = None

    def __call__(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, *args],
            cwd=cwd,
            env=clean_env(self.home, self.bin_dir),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )

    def ok(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run and require success, showing everything the command said when it fails."""
        done = self(*args, cwd=cwd)
        assert done.returncode == 0, (
            f"{' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
        return done


@pytest.fixture
def public_crunch(public_venv: Path, hub, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The public `crunch` command, talking to this test's hub."""
    bin_dir = public_venv / "bin"
    return Cli(
        argv=(str(bin_dir / "crunch"), "--api-base-url", hub.url, "--web-base-url", hub.url),
        home=tmp_path_factory.mktemp("public-home"),
        bin_dir=bin_dir,
    )


@pytest.fixture
def our_crunch(hub, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Our own `crunch` command, talking to this test's hub."""
    return Cli(
        argv=(sys.executable, "-m", "crunch_cli", "--api-base-url", hub.url),
        home=tmp_path_factory.mktemp("our-home"),
    )
