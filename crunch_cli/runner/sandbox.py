"""Where a run's code executes: a bubblewrap sandbox, or the weaker guard a machine allows.

bubblewrap (`bwrap`) gives the run a root file system of its own, built from read-only
system folders, the interpreter and its packages, and the run's own folders; everything
else on the machine (the hub's database, keys and stored files, other runs, the user's
home) is not hidden but absent from its mount namespace. The run is uid 65534 there, with
no capabilities, `no_new_privs`, no way to make another user namespace (so no way to gain
the rights to unmount anything), its own PID namespace (it cannot see or signal anything
outside, and every process it starts dies with it), its own network namespace (no
network), a new session (no terminal injection) and an environment built from an
allow-list. Limits on processes, open files, file sizes and CPU time are set by the child
before the user's code loads, and the writable places are size-bounded.

Without bubblewrap, `crunch test` falls back to what the machine allows and says so: a
network namespace (unshare), else a socket guard that stops Python code only. The hub never
falls back: it refuses to run submissions unless the organizer asked for no sandbox.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import crunch_cli
from crunch_cli.errors import SandboxError
from crunch_cli.runner import network
from crunch_cli.runner.cgroup import ProcessGroup
from crunch_cli.runner.spec import MIB, DataFiles, RunSpec

BUBBLEWRAP = "bubblewrap"
NETWORK_NAMESPACE = "network namespace"
SOCKET_GUARD = "socket guard"
UNCONFINED = "none"

SANDBOX_UID = 65534
SANDBOX_GID = 65534
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
DEFAULT_SCRATCH_BYTES = 1024 * MIB
INSTALL_HINT = "install bubblewrap (Debian and Ubuntu: apt install bubblewrap)"

# Top-level system folders, bound read-only when they are folders, recreated as links
# when they are links (merged /usr).
_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What programs read from /etc, and nothing that names the machine's users or secrets.
_ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "fonts",
    "gai.conf",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "locale.alias",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "pki",
    "resolv.conf",
    "ssl",
    "timezone",
)
# Variables worth keeping from the caller's environment: locale, time zone, thread counts
# and which GPUs to use (only for a run given a GPU: `has_gpu`, which alone also brings
# the NVIDIA devices into the sandbox). Nothing else (tokens, cloud credentials) reaches
# the code.
_PASSED_VARIABLES = (
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_NUMERIC",
    "TZ",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_MAX_THREADS",
    "PYTHONHASHSEED",
)
_GPU_DEVICES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")


@dataclasses.dataclass(frozen=True)
class Confinement:
    """How one run is confined: the command that starts it and what the run log says.

    `translate` maps a host path to where the code sees it. `writable` are the host
    folders the code may write into (their growth counts against `spec.max_written_bytes`).
    `options` go to bubblewrap through a file (`--args`), not its command line: a process
    in the sandbox can read the command line of the sandbox's first process, and the host
    paths in it are none of its business.
    """

    kind: str
    network: str
    prefix: tuple[str, ...]
    environment: dict[str, str]
    notes: tuple[str, ...]
    socket_guard: bool = False
    options: tuple[str, ...] = ()
    views: tuple[tuple[Path, Path], ...] = ()
    writable: tuple[Path, ...] = ()
    process_group: ProcessGroup | None = None

    def translate(self, path: Path) -> Path:
        """Where the code sees `path`: links resolved, as the folders were bound."""
        path = Path(os.path.realpath(path))
        for host, inside in self.views:
            if path == host or path.is_relative_to(host):
                return inside / path.relative_to(host)
        return path

    def close(self) -> None:
        if self.process_group is not None:
            self.process_group.remove()


def confine(spec: RunSpec, python: Path, scratch: Path) -> Confinement:
    """Choose and prepare the confinement of one run; `scratch` is a private host folder
    for files the sandbox needs (its /etc/passwd and /etc/group).

    Raises `SandboxError` when `spec.sandbox` is "required" and bubblewrap cannot run.
    """
    if spec.sandbox != "off":
        problem = bubblewrap_problem()
        if problem is None:
            return _bubblewrap(spec, python, scratch)
        if spec.sandbox == "required":
            raise SandboxError(
                f"submissions cannot run in a sandbox here: {problem}",
                hint=f"{INSTALL_HINT}; only for trusted code, --unsafe-no-sandbox runs them "
                "unconfined",
            )
        return _fallback(spec, problem)
    return _fallback(spec, None)


@functools.cache
def bubblewrap_problem() -> str | None:
    """None when bubblewrap runs here with every feature we use; else why not.

    Probed once per process with a real sandbox: a `bwrap` binary says nothing about
    whether the kernel lets it make user namespaces.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed"
    command = [
        bwrap,
        *_NAMESPACE_OPTIONS,
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "true",
    ]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap failed to start: {error}"
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        return f"bubblewrap cannot make a sandbox on this machine ({reason[0]})"
    return None


_NAMESPACE_OPTIONS = (
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--uid",
    str(SANDBOX_UID),
    "--gid",
    str(SANDBOX_GID),
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
)


def _bubblewrap(spec: RunSpec, python: Path, scratch: Path) -> Confinement:
    views = tuple(
        sorted(
            (
                (Path(os.path.realpath(host)), Path(inside))
                for host, inside in spec.sandbox_view.items()
            ),
            key=lambda pair: len(pair[0].parts),
            reverse=True,  # the most specific view first
        )
    )
    network_line = "allowed" if spec.network else "blocked (own network namespace)"
    confinement = Confinement(BUBBLEWRAP, network_line, (), {}, (), views=views)
    run_paths = _run_paths(spec)
    private = [path.resolve() for path in spec.private_paths]
    python_paths = interpreter_paths(python)
    _refuse_exposure([*python_paths, *(path for path, _ in run_paths)], private)
    arguments = base_options(
        python_paths,
        scratch,
        network=spec.network,
        scratch_bytes=spec.max_written_bytes or DEFAULT_SCRATCH_BYTES,
    )
    for path, can_write in run_paths:
        option = "--bind" if can_write else "--ro-bind"
        arguments += [option, str(path), str(confinement.translate(path))]
    for path in spec.hidden_paths:
        if path.exists():
            arguments += ["--tmpfs", str(confinement.translate(path))]
    if spec.has_gpu:
        arguments += _gpu_binds()
    working_directory = spec.working_directory or spec.main_file.parent
    arguments += ["--chdir", str(confinement.translate(working_directory))]
    notes = [
        "sandbox: bubblewrap (only the code, its data and Python are visible; "
        f"uid {SANDBOX_UID}, no capabilities)",
        f"network: {network_line}",
    ]
    group_of_processes = None
    if spec.max_processes is not None and os.geteuid() == 0:
        group_of_processes = ProcessGroup.create(spec.max_processes)
        if group_of_processes is None:
            notes.append(
                "processes: not limited (root is exempt from the process limit and no pids "
                "cgroup can be made here); run the hub as an unprivileged user"
            )
    prefix: tuple[str, ...] = (shutil.which("bwrap") or "bwrap",)
    if group_of_processes is not None:
        prefix = (*group_of_processes.enter_command(), *prefix)
    return dataclasses.replace(
        confinement,
        prefix=prefix,
        options=tuple(arguments),
        environment=_environment(spec, python, inside=True),
        notes=(*notes, _limits_note(spec)),
        writable=tuple(path for path, can_write in run_paths if can_write),
        process_group=group_of_processes,
    )


def base_options(
    python_paths: Iterable[Path], scratch: Path, *, network: bool, scratch_bytes: int
) -> list[str]:
    """What every sandbox gets, runs and environment builds alike: the namespaces, the
    system, Python, a user of its own and size-bounded scratch folders."""
    passwd, group = scratch / "passwd", scratch / "group"
    passwd.write_text(f"sandbox:x:{SANDBOX_UID}:{SANDBOX_GID}:sandbox:/tmp:/usr/sbin/nologin\n")
    group.write_text(f"sandbox:x:{SANDBOX_GID}:\n")
    arguments = [*_NAMESPACE_OPTIONS]
    if network:
        arguments.append("--share-net")
    arguments += [*_system_binds(), "--proc", "/proc", "--dev", "/dev"]
    arguments += ["--ro-bind", str(passwd), "/etc/passwd", "--ro-bind", str(group), "/etc/group"]
    for size_path in ("/tmp", "/dev/shm", "/var/tmp"):
        arguments += ["--size", str(scratch_bytes), "--perms", "1777", "--tmpfs", size_path]
    for path in _outermost(python_paths):
        arguments += ["--ro-bind", str(path), str(path)]
    return arguments


def _fallback(spec: RunSpec, problem: str | None) -> Confinement:
    """No bubblewrap: the network alone is cut, as well as this machine allows."""
    if problem is None:
        notes = [
            "sandbox: none: UNSAFE, the sandbox is turned off (--unsafe-no-sandbox), so this "
            "code can read and change everything its user can"
        ]
    else:
        notes = [
            f"sandbox: none ({problem}): the code runs as you and sees your files; "
            f"{INSTALL_HINT} to confine it"
        ]
    environment = _environment(spec, spec.python or Path(sys.executable), inside=False)
    if spec.network:
        return Confinement(UNCONFINED, "allowed", (), environment, (*notes, "network: allowed"))
    prefix = network.namespace_prefix()
    if prefix is not None:
        line = "blocked (own network namespace)"
        return Confinement(
            NETWORK_NAMESPACE, line, prefix, environment, (*notes, f"network: {line}")
        )
    line = (
        "blocked for Python sockets only (socket guard): native code and other programs "
        "can still reach it"
    )
    return Confinement(
        SOCKET_GUARD, line, (), environment, (*notes, f"network: {line}"), socket_guard=True
    )


def _run_paths(spec: RunSpec) -> list[tuple[Path, bool]]:
    """The run's own host paths and whether the code may write there, parents first so
    that a folder's own mode applies inside a parent of the other mode (the data files,
    read-only, inside a writable workspace)."""
    writable = [spec.model_dir, spec.prediction_path.parent]
    writable += [path for path in (spec.working_directory, spec.code_directory) if path]
    read_only = [spec.main_file.parent]
    read_only += dataclasses.astuple(spec.data) if spec.data is not None else ()
    read_only += spec.modules.paths() if spec.modules is not None else ()
    if spec.judging is not None and spec.judging.y_test is not None:
        read_only.append(spec.judging.y_test)
    read_only += _our_packages()
    modes: dict[Path, bool] = {}
    for path, can_write in [*((p, False) for p in read_only), *((p, True) for p in writable)]:
        resolved = Path(os.path.realpath(path))
        modes[resolved] = modes.get(resolved, False) or can_write
    return sorted(modes.items(), key=lambda item: len(item[0].parts))


def _our_packages() -> list[Path]:
    """crunch_cli, and the `crunch` face that competition modules import, when installed."""
    import importlib.util

    face = importlib.util.find_spec("crunch")
    folders = [Path(crunch_cli.__file__).parent]
    if face is not None and face.origin is not None:
        folders.append(Path(face.origin).parent)
    return folders


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Paths not inside another of the list, parents first: one bind covers the rest."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda item: len(item.parts)):
        if not any(path.is_relative_to(parent) for parent in kept):
            kept.append(path)
    return kept


def _refuse_exposure(paths: Sequence[Path], private: Sequence[Path]) -> None:
    """Fail closed: a bound folder that contains the hub's own files would show them."""
    for path in paths:
        for secret in private:
            if secret == path or secret.is_relative_to(path):
                raise SandboxError(
                    f"the sandbox would show {secret} to submissions: it is inside {path}, "
                    "which runs need",
                    hint="keep the hub's --root out of the folders that hold Python, "
                    "its packages and the runs",
                )


def _system_binds() -> list[str]:
    arguments: list[str] = []
    for name in _SYSTEM_FOLDERS:
        folder = Path(name)
        if folder.is_symlink():
            arguments += ["--symlink", str(folder.readlink()), name]
        elif folder.is_dir():
            arguments += ["--ro-bind", name, name]
    for entry in _ETC_ENTRIES:
        arguments += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    return arguments


def _gpu_binds() -> list[str]:
    devices = Path("/dev")
    names = [*_GPU_DEVICES, *(p.name for p in devices.glob("nvidia[0-9]*"))]
    arguments: list[str] = []
    for name in names:
        arguments += ["--dev-bind-try", f"/dev/{name}", f"/dev/{name}"]
    arguments += ["--dev-bind-try", "/dev/nvidia-caps", "/dev/nvidia-caps"]
    # NVIDIA's libraries find the devices through sysfs.
    arguments += ["--ro-bind-try", "/sys", "/sys"]
    return arguments


@functools.cache
def _interpreter_facts(python: str, home: str) -> tuple[tuple[str, ...], str]:
    """(folders the interpreter imports from, its user base), asked of the interpreter
    itself: a virtualenv, a conda prefix, a --user install or a .pth file can each put
    packages anywhere."""
    code = (
        "import json, site, sys\n"
        "print(json.dumps([site.getuserbase(), [sys.prefix, sys.base_prefix, sys.exec_prefix,"
        " sys.base_exec_prefix, *sys.path]]))"
    )
    environment = {"PATH": SANDBOX_PATH, "HOME": home}
    try:
        probe = subprocess.run(
            [python, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env=environment,
            cwd="/",
        )
        user_base, paths = json.loads(probe.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise SandboxError(
            f"cannot start the interpreter {python}: {error}",
            hint="check that this Python runs: `" + python + " -c pass`",
        ) from error
    return tuple(path for path in paths if Path(path).is_absolute()), user_base


def interpreter_paths(python: Path) -> list[Path]:
    """Existing folders and files the interpreter needs, resolved (links followed)."""
    environment, asked = _asked_interpreter(python)
    folders, _user_base = _interpreter_facts(str(asked), _home())
    found = {Path(os.path.realpath(path)) for path in (str(python), *folders)}
    found.add(Path(os.path.realpath(python)).parent)
    if environment is not None:
        found.add(Path(os.path.realpath(environment)))
    return sorted(path for path in found if path.exists() and path != Path("/"))


def _asked_interpreter(python: Path) -> tuple[Path | None, Path]:
    """(the virtualenv `python` belongs to, if any; the interpreter to ask about paths).

    A virtualenv's packages may come from a submission's requirements, and any of them can
    ship a `.pth` file that Python runs at start-up: such an environment is never started
    outside a sandbox. The environments runs get are made by this very interpreter and see
    its packages (crunch_cli.hub.environments), so this one is asked instead, and the
    environment's own folder is added whole.
    """
    prefix = python.parent.parent
    if python == Path(sys.executable) or not (prefix / "pyvenv.cfg").is_file():
        return None, python
    return prefix, Path(sys.executable)


def _home() -> str:
    return os.environ.get("HOME") or str(Path.home())


def _environment(spec: RunSpec, python: Path, *, inside: bool) -> dict[str, str]:
    """The child's whole environment, built from an allow-list."""
    environment = {name: os.environ[name] for name in _PASSED_VARIABLES if name in os.environ}
    if not spec.has_gpu:
        # No GPU was given to this run: CUDA libraries see none, even where the devices
        # exist (no sandbox; a hub's `cpu` run on a machine with a GPU).
        environment.pop("NVIDIA_VISIBLE_DEVICES", None)
        environment["CUDA_VISIBLE_DEVICES"] = ""
    environment.setdefault("LANG", "C.UTF-8")
    environment["PYTHONUNBUFFERED"] = "1"
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    # The child must run the very crunch_cli this process runs, whichever way it came.
    environment["PYTHONPATH"] = str(Path(crunch_cli.__file__).parent.parent)
    if inside:
        _folders, user_base = _interpreter_facts(str(_asked_interpreter(python)[1]), _home())
        environment.update(PATH=SANDBOX_PATH, HOME="/tmp", TMPDIR="/tmp", USER="sandbox")
        environment["PYTHONUSERBASE"] = user_base
    else:
        environment["PATH"] = os.environ.get("PATH", SANDBOX_PATH)
        environment["HOME"] = _home()
        if "TMPDIR" in os.environ:
            environment["TMPDIR"] = os.environ["TMPDIR"]
    return environment


def _limits_note(spec: RunSpec) -> str:
    parts = []
    if spec.max_processes is not None:
        parts.append(f"{spec.max_processes} processes")
    if spec.max_open_files is not None:
        parts.append(f"{spec.max_open_files} open files")
    if spec.max_written_bytes is not None:
        parts.append(f"{spec.max_written_bytes / MIB:,.0f} MiB written")
    if spec.cpu_time_limit is not None:
        parts.append(f"{spec.cpu_time_limit:g} s of CPU time")
    return "limits: " + (", ".join(parts) if parts else "none beyond time and memory")


def child_limits(spec: RunSpec) -> dict[str, Any]:
    """The resource limits the child sets on itself before the user's code loads."""
    return {
        "processes": spec.max_processes,
        "openFiles": spec.max_open_files,
        "fileSize": spec.max_written_bytes,
        "cpuSeconds": spec.cpu_time_limit,
    }


def translated_spec(spec: RunSpec, confinement: Confinement) -> dict[str, Any]:
    """The spec as the child reads it: every path as the child sees it."""
    move = confinement.translate
    judging = spec.judging
    if judging is not None and judging.y_test is not None:
        judging = dataclasses.replace(judging, y_test=move(judging.y_test))
    return dataclasses.replace(
        spec,
        main_file=move(spec.main_file),
        model_dir=move(spec.model_dir),
        data=None
        if spec.data is None
        else DataFiles(*(move(path) for path in dataclasses.astuple(spec.data))),
        prediction_path=move(spec.prediction_path),
        working_directory=move(spec.working_directory or spec.main_file.parent),
        code_directory=move(spec.code_directory or spec.main_file.parent),
        judging=judging,
        modules=None if spec.modules is None else spec.modules.moved(move),
    ).to_json()
