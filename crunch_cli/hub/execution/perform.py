"""Run one `Job` in a folder of its own and return how it ended: the same code on the hub
(the local pool) and on a Ray worker, which differ only in their `Place`.

The folder gets `code/` (the submission's files, code at the root, model files under its
model directory; the working directory), `output/` (the predictions) and the data, laid
out by `module_runs`. Every file comes from the place's `FileSource`, checked against the
job's sha256 on the way in: a file changed in a store or on the wire fails the run rather
than run or score other bytes. The run executes in a bubblewrap sandbox that sees `code/`
as /submission, `output/` as /output and the released data, read-only, under /data;
nothing else of the machine's folders (the hub's root, a worker's cache of other runs'
files) exists there. The hidden targets never reach the submission's sandbox: the scoring
(crunch's own code for a built-in format, a sandbox of its own for an organizer's module)
judges the predictions the child wrote, so a submission cannot grade itself.

Without a sandbox (`--unsafe-no-sandbox`, for trusted code only) the data files are
read-only copies, and every run's log says that the submission could reach the machine.

Lines go to a `Reporter` with the machine's paths replaced by what the sandbox shows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import stat
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Protocol

from crunch_cli.hub import environments, module_runs
from crunch_cli.hub.blobstores.verify import COPY_BUFFER, check_digest
from crunch_cli.hub.execution.files import FileSource
from crunch_cli.hub.execution.job import TERMINATED_MESSAGE, Job, JobFile, Outcome
from crunch_cli.hub.module_runs import ModuleInputs
from crunch_cli.runner.spec import MIB, ColumnNames, Format, Judging, RunSpec
from crunch_cli.untrusted import relative_name

# CPython 3.11 (3.11.7 here) can fail `ast.parse` on two threads at once ("AST constructor
# recursion depth mismatch"): runs convert notebooks one at a time.
_CONVERTING = threading.Lock()
PREDICTION_FILE = "prediction.parquet"
# Where a sandboxed run sees its folders.
INSIDE_CODE = Path("/submission")
INSIDE_OUTPUT = Path("/output")
INSIDE_NOTEBOOK = Path("/notebook")
INSIDE_RUN = "/run"


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a job executes. `folder` is the run's own (emptied first); `private` folders
    must never be visible to the run (the hub's root, a worker's cache); `cpus` is what
    the run may use, which bounds its CPU time (time limit times cpus); `has_gpu` is whether a
    GPU was given to it (the sandbox then passes the NVIDIA devices through)."""

    folder: Path
    files: FileSource
    environments_dir: Path
    private: tuple[Path, ...]
    sandboxed: bool
    cpus: int
    has_gpu: bool


class Reporter(Protocol):
    """Where a run's lines and its start go."""

    def output(self, source: str, line: str) -> None:
        """The runner's and the child's lines (`source`: stdout, stderr, runner)."""
        ...

    def hub(self, line: str, error: bool = False) -> None:
        """A line of the hub's own about the run."""
        ...

    def starting(self) -> bool:
        """The submission's code is about to start: record it; False when the run must
        not start (it was terminated meanwhile)."""
        ...


class _Hiding:
    """A reporter that names the run's folders as the sandbox shows them."""

    def __init__(self, report: Reporter, paths: Mapping[Path, str]) -> None:
        self._report = report
        self._paths = sorted(
            ((str(path), shown) for path, shown in paths.items()), key=lambda item: -len(item[0])
        )

    def hide(self, text: str) -> str:
        for path, shown in self._paths:
            text = text.replace(path, shown)
        return text

    def output(self, source: str, line: str) -> None:
        self._report.output(source, self.hide(line))

    def hub(self, line: str, error: bool = False) -> None:
        self._report.hub(self.hide(line), error)


def perform(job: Job, place: Place, report: Reporter, stop: threading.Event) -> Outcome:
    """Run `job` to its end in `place`; the submission's faults are the outcome, and so is
    a stop (`terminated`). Raises only for the machine's own failures (a file that fails
    its sha256, a sandbox that cannot be made, a full disk), which the caller records."""
    folder = place.folder
    hiding = _Hiding(
        report,
        {
            folder / "code": str(INSIDE_CODE),
            folder / "output": str(INSIDE_OUTPUT),
            folder / "notebook": str(INSIDE_NOTEBOOK),
            folder: INSIDE_RUN,
        },
    )
    try:
        outcome = _perform(job, place, hiding, report, stop)
    finally:
        remove_folder(folder)
    if outcome.error_message is not None:
        outcome = dataclasses.replace(outcome, error_message=hiding.hide(outcome.error_message))
    return outcome


def _perform(
    job: Job, place: Place, log: _Hiding, report: Reporter, stop: threading.Event
) -> Outcome:
    limits = job.limits
    log.hub(
        f"run {job.run_id}: submission #{job.submission_number}, time limit "
        f"{limits.time_seconds} s, memory limit {limits.memory_mb} MiB"
    )
    remove_folder(place.folder)  # left over by a run that stopped half-way
    spec = _prepare(job, place)
    python = environments.python_for(
        job.requirements, place.environments_dir, log.hub, stop, sandboxed=place.sandboxed
    )
    if stop.is_set() or not report.starting():
        return Outcome(False, "terminated", TERMINATED_MESSAGE)
    if python is not None:
        spec = dataclasses.replace(spec, python=python)
    from crunch_cli.modules.pipeline import run_modules

    outcome = module_runs.run(
        _inputs(job, place),
        spec,
        place.folder,
        context={
            "timeout": limits.time_seconds,
            "trainFrequency": job.train_frequency,
            "forceFirstTrain": job.force_first_train,
            "chainHeight": 1,
            "determinismCheck": False,
        },
        run_process=lambda module_run: run_modules(module_run, log.output, stop),
        note=log.hub,
        link=place.sandboxed,
    )
    if not outcome.success:
        log.hub(f"the run failed ({outcome.exit_reason}): {outcome.error_message}", error=True)
    return outcome


def _prepare(job: Job, place: Place) -> RunSpec:
    """The run's folder, with every code file checked against its sha256 as it is copied."""
    folder = place.folder
    code, output = folder / "code", folder / "output"
    for item in job.code:
        target = code.joinpath(*PurePosixPath(relative_name(item.path, what="code file")).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_verified(place.files.local_file(item), item, target)
    output.mkdir(parents=True)
    main_file = code / job.main_file
    if main_file.suffix == ".ipynb":
        from crunch_cli.runner.local import convert_notebook_file

        with _CONVERTING:
            main_file, _warnings = convert_notebook_file(main_file, folder / "notebook")
    limits = job.limits
    view = {code: INSIDE_CODE, output: INSIDE_OUTPUT, folder / "notebook": INSIDE_NOTEBOOK}
    return RunSpec(
        main_file=main_file,
        model_dir=code / job.model_directory,
        data=None,  # laid out with the modules (module_runs)
        format=Format(job.format),
        prediction_path=output / PREDICTION_FILE,
        columns=ColumnNames(**job.columns),
        working_directory=code,
        code_directory=code,
        embargo=job.embargo,
        number_of_features=job.number_of_features,
        train_frequency=job.train_frequency,
        force_first_train=job.force_first_train,
        total_timeout=limits.time_seconds,
        memory_limit=limits.memory_mb * MIB,
        network=False,
        has_gpu=place.has_gpu,
        sandbox="required" if place.sandboxed else "off",
        sandbox_view=view,
        private_paths=place.private,
        max_processes=limits.max_processes,
        max_open_files=limits.max_open_files,
        max_written_bytes=max(limits.min_written_bytes, 2 * limits.max_model_size),
        cpu_time_limit=limits.time_seconds * max(1, place.cpus),
    )


def _inputs(job: Job, place: Place) -> ModuleInputs:
    def files(items: tuple[JobFile, ...]) -> dict[str, Path]:
        return {item.path: place.files.local_file(item) for item in items}

    modules = {item.path.removesuffix(".py"): place.files.local_file(item) for item in job.modules}
    return ModuleInputs(
        modules=modules,
        released=files(job.released),
        hidden=files(job.hidden),
        metrics=job.metrics,
        judging=None if job.judging is None else Judging.from_json(job.judging),
    )


def copy_verified(source: Path, file: JobFile, target: Path) -> None:
    """Copy `source` to `target` while hashing it: bytes that are not `file`'s leave no
    `target` behind and raise BlobIntegrityError."""
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as reader, open(target, "wb") as writer:
            while piece := reader.read(COPY_BUFFER):
                digest.update(piece)
                writer.write(piece)
        check_digest(file.key, file.sha256, digest.hexdigest())
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def remove_folder(folder: Path) -> None:
    """Delete a run folder, including read-only folders the submission may have made."""
    for directory, _subdirectories, _files in os.walk(folder):
        with contextlib.suppress(OSError):
            Path(directory).chmod(stat.S_IRWXU)
    shutil.rmtree(folder, ignore_errors=True)
