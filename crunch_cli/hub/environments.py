"""The Python a submission runs with: the hub's own, or a virtualenv made for its
requirements, keyed by their hash, built once and reused by every later run.

A built environment sees its own packages first, then the hub's (a `.pth` file calls
`site.addsitedir` on the hub's site-packages, so even the hub's editable installs load):
the submission's pinned versions win, and the runner's own imports (crunch_cli, pandas,
pyarrow) still resolve. pip therefore installs only what the hub lacks or pins otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import site
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from packaging.specifiers import SpecifierSet

from crunch_cli.errors import RequirementsError
from crunch_cli.requirements.freeze import installed_version
from crunch_cli.requirements.model import Requirement
from crunch_cli.requirements.parse import parse_requirements_file

READY_FILE = ".ready"
PTH_FILE = "_crunch_hub_site.pth"
INSTALL_TIMEOUT = 30 * 60.0

Emit = Callable[[str], None]


def python_for(
    requirements_text: str | None,
    environments_dir: Path,
    emit: Emit,
    stop: threading.Event | None = None,
) -> Path | None:
    """The interpreter for these requirements; None means the hub's own satisfies them.

    `emit` receives progress lines (pip's output included); `stop` aborts an install.
    """
    requirements = parse_requirements_file(requirements_text or "")
    missing = [item for item in requirements if not satisfied(item)]
    if not missing:
        return None
    directory = environments_dir / environment_key(requirements)
    python = directory / "bin" / "python"
    with _locked(directory.with_suffix(".lock")):
        if (directory / READY_FILE).is_file():
            emit(f"using the environment {directory.name[:12]} built for these requirements")
            return python
        shown = ", ".join(item.line() for item in missing)
        emit(f"building an environment for the requirements the hub lacks: {shown}")
        shutil.rmtree(directory, ignore_errors=True)  # a build that died half-way
        try:
            _build(directory, requirements, emit, stop)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        (directory / READY_FILE).write_text("".join(f"{item.line()}\n" for item in requirements))
    return python


def satisfied(requirement: Requirement) -> bool:
    version = installed_version(requirement.name)
    if version is None:
        return False
    return SpecifierSet(requirement.specifier).contains(version, prereleases=True)


def environment_key(requirements: list[Requirement]) -> str:
    """The same requirements in any order, on the same Python, share one environment."""
    lines = sorted({item.line().lower() for item in requirements})
    text = f"python {sys.version_info.major}.{sys.version_info.minor}\n" + "\n".join(lines)
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Across threads and processes: two runs needing one environment build it once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(
    directory: Path, requirements: list[Requirement], emit: Emit, stop: threading.Event | None
) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(directory)],
        check=True,
        capture_output=True,
    )
    paths = {"base": str(directory), "platbase": str(directory)}
    own_site = Path(sysconfig.get_path("purelib", vars=paths))
    hub_sites = [path for path in site.getsitepackages() if Path(path) != own_site]
    (own_site / PTH_FILE).write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in hub_sites)
    )
    requirements_file = directory / "requirements.txt"
    requirements_file.write_text("".join(f"{item.line()}\n" for item in requirements))
    command = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(directory / "bin" / "python"),
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "-r",
        str(requirements_file),
    ]
    _stream(command, emit, stop)


def _stream(command: list[str], emit: Emit, stop: threading.Event | None) -> None:
    """Run pip, passing each line on; stopped by `stop` or after INSTALL_TIMEOUT."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    ended = threading.Event()
    stopped = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + INSTALL_TIMEOUT
        while not ended.wait(0.1):
            if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                stopped.set()
                process.kill()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert process.stdout is not None
    with process.stdout:
        for line in process.stdout:
            emit(line.rstrip("\n"))
    code = process.wait()
    ended.set()
    watcher.join()
    if stopped.is_set():
        raise RequirementsError("installing the requirements was stopped")
    if code != 0:
        raise RequirementsError(
            f"pip could not install the requirements (exit status {code}); see the log above",
            hint="check the versions in requirements.txt exist for this hub's Python",
        )
