"""The Python a submission runs with: the hub's own, or a virtualenv made for its
requirements, keyed by their hash, built once and reused by every later run.

A built environment sees its own packages first, then the hub's (a `.pth` file calls
`site.addsitedir` on the hub's site-packages, so even the hub's editable installs load):
the submission's pinned versions win, and the runner's own imports (crunch_cli, pandas,
pyarrow) still resolve. pip therefore installs only what the hub lacks or pins otherwise.

Requirements are the submission's, so the build is treated as hostile too, in three steps:
1. pip resolves, wheels only (`--only-binary :all:`: no sdist, so no package's build code
   runs), in a sandbox whose only reach is the network to the package index, and reports
   what it would install;
2. pip downloads exactly those wheels (same sandbox), and the hub records each one's sha256
   (checked against the index's when the index gives one);
3. pip installs them offline, `--require-hashes`, in a sandbox without network: exactly the
   bytes that were hashed, and nothing but wheels.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
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
    *,
    sandboxed: bool = True,
) -> Path | None:
    """The interpreter for these requirements; None means the hub's own satisfies them.

    `emit` receives progress lines (pip's output included); `stop` aborts an install;
    `sandboxed=False` runs pip unconfined (a hub told to run submissions so).
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
            _build(directory, requirements, emit, stop, sandboxed)
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
    directory: Path,
    requirements: list[Requirement],
    emit: Emit,
    stop: threading.Event | None,
    sandboxed: bool,
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
    build = directory / BUILD_FOLDER
    wheels = build / "wheels"
    wheels.mkdir(parents=True)
    requirements_file = build / "requirements.txt"
    requirements_file.write_text("".join(f"{item.line()}\n" for item in requirements))
    python = directory / "bin" / "python"
    tool = _Tool(python, build, sandboxed)
    report = build / "report.json"
    resolve = ["install", *_WHEELS_ONLY, "--dry-run", "--quiet", "--report", str(report)]
    resolve += ["-r", str(requirements_file)]
    _stream(tool.command(resolve, writable=[build], network=True), emit, stop)
    wanted = _reported_wheels(report)
    if wanted:
        pins = [f"{name}=={version}" for name, (version, _sha256) in sorted(wanted.items())]
        download = ["download", *_WHEELS_ONLY, "--no-deps", "--dest", str(wheels), *pins]
        _stream(tool.command(download, writable=[build], network=True), emit, stop)
        hashed = build / "hashed-requirements.txt"
        hashed.write_text(_hashed_requirements(wheels, wanted, emit))
        install = ["install", *_WHEELS_ONLY, "--no-index", "--no-deps", "--require-hashes"]
        install += ["--find-links", str(wheels), "-r", str(hashed)]
        _stream(tool.command(install, writable=[directory], network=False), emit, stop)
    shutil.rmtree(build)


BUILD_FOLDER = ".build"
_PIP = ("--disable-pip-version-check", "--no-input")
_WHEELS_ONLY = ("--only-binary", ":all:", "--progress-bar", "off")


def _reported_wheels(report: Path) -> dict[str, tuple[str, str | None]]:
    """name → (version, sha256 the index gave, if any) of what pip would install."""
    import json

    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    wanted: dict[str, tuple[str, str | None]] = {}
    for item in json.loads(report.read_text()).get("install", []):
        metadata = item.get("metadata") or {}
        archive = (item.get("download_info") or {}).get("archive_info") or {}
        name, version = str(metadata.get("name", "")), str(metadata.get("version", ""))
        # Both come from the packages' own metadata and end up on pip's command line.
        try:
            Version(version)
            valid = _PROJECT_NAME.fullmatch(name) is not None
        except InvalidVersion:
            valid = False
        if not valid:
            raise RequirementsError(
                f"the package index describes a package as {name!r} {version!r}",
                hint="only packages with a valid name and version can be installed",
            )
        wanted[canonicalize_name(name)] = (version, (archive.get("hashes") or {}).get("sha256"))
    return wanted


_PROJECT_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


def _hashed_requirements(
    wheels: Path, wanted: dict[str, tuple[str, str | None]], emit: Emit
) -> str:
    """`name==version --hash=sha256:…` for each downloaded wheel: the install step takes
    these bytes and no others. A wheel whose bytes differ from the index's sha256 stops
    the build."""
    from packaging.utils import parse_wheel_filename

    lines = []
    for wheel in sorted(wheels.glob("*.whl")):
        name, version, _build, _tags = parse_wheel_filename(wheel.name)
        digest = _sha256(wheel)
        expected = wanted.get(name, (None, None))[1]
        if expected is not None and expected != digest:
            raise RequirementsError(
                f"{wheel.name} does not have the sha256 the package index gave for it",
                hint="the index or a proxy between changed it; try again later",
            )
        emit(f"wheel {wheel.name}: sha256 {digest}")
        lines.append(f"{name}=={version} --hash=sha256:{digest}\n")
    return "".join(lines)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while piece := file.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


class _Tool:
    """pip commands for the environment at `python`, each in a sandbox of its own when the
    hub sandboxes its runs: only the build folder (or the environment) is writable, only
    pip's own configuration and local package folders are visible."""

    def __init__(self, python: Path, build: Path, sandboxed: bool) -> None:
        self.python = python
        self.build = build
        self.sandboxed = sandboxed

    def command(
        self, arguments: list[str], *, writable: list[Path], network: bool
    ) -> tuple[list[str], dict[str, str] | None]:
        """The command line and its environment (None: this process's)."""
        command = [sys.executable, "-m", "pip", "--python", str(self.python), *_PIP, *arguments]
        if not self.sandboxed:
            return command, None
        from crunch_cli.runner import sandbox

        options = sandbox.base_options(
            sandbox.interpreter_paths(self.python),
            self.build,
            network=network,
            scratch_bytes=INSTALL_SCRATCH_BYTES,
        )
        user_config = _user_pip_config()
        for path in _pip_configuration():
            inside = _PIP_USER_CONFIG if path == user_config else path
            options += ["--ro-bind", str(path), str(inside)]
        for path in writable:
            options += ["--bind", str(path), str(path)]
        environment = {
            name: value
            for name, value in os.environ.items()
            if name.startswith("PIP_") or name in ("LANG", "LC_ALL", "SSL_CERT_FILE")
        }
        environment.update(HOME="/tmp", PATH=sandbox.SANDBOX_PATH)
        return [shutil.which("bwrap") or "bwrap", *options, "--", *command], environment


INSTALL_SCRATCH_BYTES = 4 << 30
_PIP_USER_CONFIG = Path("/tmp/.config/pip/pip.conf")


def _user_pip_config() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "pip" / "pip.conf"


def _pip_configuration() -> list[Path]:
    """The hub's pip settings (index, certificates, constraints) and the local folders
    they name, for pip inside the sandbox to find the packages the hub itself would."""
    candidates = [Path("/etc/pip.conf"), Path("/etc/xdg/pip"), _user_pip_config()]
    for name, value in os.environ.items():
        if name.startswith("PIP_"):
            for token in value.split():
                path = Path(token.removeprefix("file://"))
                if path.is_absolute():
                    candidates.append(path)
    return [path for path in dict.fromkeys(candidates) if path.exists()]


def _stream(
    command: tuple[list[str], dict[str, str] | None], emit: Emit, stop: threading.Event | None
) -> None:
    """Run pip, passing each line on; stopped by `stop` or after INSTALL_TIMEOUT."""
    arguments, environment = command
    process = subprocess.Popen(
        arguments,
        env=environment,
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
            hint="check the versions in requirements.txt exist as wheels for this hub's "
            "Python: the hub installs wheels only, never builds a package from its source",
        )
