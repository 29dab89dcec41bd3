"""`crunch test` without the terminal: a workspace in, a `TestReport` out.

Builds the `RunSpec` from the workspace's cached competition metadata (so it works
offline), runs it through the pipeline of every run (crunch_cli.modules.pipeline), checks
and scores the predictions, and writes `prediction/`. Both the
CLI and the notebook API call `test_workspace`; each prints the report its own way.
A failed test leaves `prediction/prediction.parquet` as it was; the log is always written.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crunch_cli.errors import (
    PredictionCheckError,
    RunnerError,
    WorkspaceError,
)
from crunch_cli.runner.checks import Check, CheckFailure
from crunch_cli.runner.process import OutputCallback, Progress
from crunch_cli.runner.spec import (
    BUILT_IN,
    MIB,
    ColumnNames,
    DataFiles,
    Format,
    Judging,
    RunResult,
    RunSpec,
    Score,
)
from crunch_cli.workspace import Workspace, atomic_write_text

MAIN_FILE = "main.py"
MAIN_NOTEBOOK = "main.ipynb"
PREDICTION_FILE = "prediction.parquet"
LOG_FILE = "log.txt"


@dataclasses.dataclass(frozen=True)
class TestOptions:
    """What `crunch test` lets the user change; None means: as the competition says."""

    __test__ = False  # not a pytest class, despite the name

    main_file: str | None = None
    model_directory: str | None = None
    timeout: float | None = None
    memory_limit_mb: int | None = None
    network: bool = False
    train_frequency: int = 1
    force_first_train: bool = True
    force_train: bool = False
    gpu: bool | None = None
    checks: bool = True
    determinism_check: bool = False


@dataclasses.dataclass
class TestReport:
    """Everything a front-end shows after a test; `raise_for_failure` says if it failed."""

    __test__ = False

    result: RunResult
    main_file: str
    predictions_path: Path | None
    log_path: Path
    conversion_warnings: list[str]

    def __repr__(self) -> str:
        """Short: a notebook shows it when `crunch.test()` ends a cell."""
        state = "passed" if self.result.ok and not self.failures else "failed"
        return f"<crunch test of {self.main_file}: {state}>"

    @property
    def failures(self) -> list[CheckFailure]:
        return self.result.failures

    @property
    def score(self) -> Score | None:
        return self.result.score

    def raise_for_failure(self) -> None:
        """The failure as one error; the failed checks themselves are listed before it
        (`summary.failure_lines`), so it counts them rather than repeating the first."""
        self.result.raise_for_failure()
        if self.failures:
            count = len(self.failures)
            raise PredictionCheckError(
                f"the predictions failed {count} check{'s' if count > 1 else ''}",
                hint="fix infer() so its output passes the checks listed above "
                "(prediction/prediction.parquet was left as it was)",
            )
        if self.result.deterministic is False:
            raise RunnerError(
                f"infer() is not deterministic: {self.result.determinism_difference}",
                hint="seed every random generator your code uses, or pass --no-determinism-check",
            )


@dataclasses.dataclass(frozen=True)
class LocalCompetition:
    """What the workspace's cached metadata says about the competition and its data."""

    format: Format
    columns: ColumnNames
    competition: dict[str, Any]
    release: dict[str, Any]
    checks: list[Check]
    metrics: tuple[dict[str, Any], ...] = ()

    @classmethod
    def read(cls, workspace: Workspace) -> LocalCompetition:
        cache = workspace.read_competition_cache()
        competition = cache.get("competition") or {}
        release = cache.get("dataRelease") or {}
        return cls(
            format=Format.parse(str(competition.get("format", ""))),
            columns=ColumnNames.from_release(release.get("columnNames") or {}),
            competition=competition,
            release=release,
            checks=[Check.from_json(check) for check in cache.get("checks") or []],
            metrics=tuple(cache.get("metrics") or ()),
        )

    def limit(self, key: str) -> Any:
        """The hub's run limits, under `limits` (ours) or at the top level."""
        return (self.competition.get("limits") or {}).get(key) or self.competition.get(key)


def test_workspace(
    workspace: Workspace,
    options: TestOptions,
    on_output: OutputCallback | None = None,
    *,
    notebook_cells: Sequence[str] | None = None,
) -> TestReport:
    """Run the workspace's code on its data, then check and score the predictions.

    `notebook_cells` (the code a notebook kernel ran) replaces the main file: it is
    converted like a notebook, so a notebook can test itself before it is even saved.
    """
    local = LocalCompetition.read(workspace)
    columns = local.columns
    model_dir = _model_dir(workspace, options)
    source = "notebook" if notebook_cells is not None else None
    if source is None:
        source = os.path.relpath(_main_source(workspace, options), workspace.root)
    workspace.prediction_dir.mkdir(parents=True, exist_ok=True)
    tee = _Tee(on_output)
    copies = tee.copies

    with tempfile.TemporaryDirectory(dir=workspace.prediction_dir, prefix=".test-") as scratch:
        # The code as `crunch push` would send it: a helper that push leaves out (.gitignore)
        # is missing here too, as it would be on the hub.
        code_directory = Path(scratch) / "code"
        shipped = _ship_code(workspace, code_directory)
        main_file = code_directory / source
        warnings: list[str] = []
        if notebook_cells is not None or source.endswith(".ipynb"):
            code = list(notebook_cells) if notebook_cells is not None else workspace.root / source
            main_file, warnings = convert_notebook_file(code, code_directory)
            # The script is the notebook's: messages name the notebook, not a main.py that
            # is not in the workspace.
            shown = "the notebook" if source == "notebook" else str(workspace.root / source)
            copies[str(main_file)] = shown
        elif not main_file.is_file():  # left out of the submission: push says so itself
            main_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(workspace.root / source, main_file)
        copies[f"{code_directory}{os.sep}"] = f"{workspace.root}{os.sep}"
        for warning in warnings:
            tee("stderr", f"warning: {warning}")
        modular = local.format is Format.UNSTRUCTURED
        files = {} if modular else data_files(workspace, local.release)
        spec = RunSpec(
            main_file=main_file,
            model_dir=model_dir,
            data=None
            if modular
            else DataFiles(files["X_train"], files["y_train"], files["X_test"]),
            format=local.format,
            prediction_path=Path(scratch) / PREDICTION_FILE,
            columns=columns,
            working_directory=workspace.root,
            code_directory=code_directory,
            embargo=int(local.release.get("embargo") or 0),
            number_of_features=local.release.get("numberOfFeatures"),
            train_frequency=options.train_frequency,
            force_first_train=options.force_first_train,
            force_train=options.force_train,
            timeout=options.timeout,
            total_timeout=local.limit("runTimeLimitSeconds"),
            memory_limit=_memory_limit(options, local),
            network=options.network,
            hidden_paths=(workspace.metadata_dir,),
            has_gpu=options.gpu,
            determinism_check=options.determinism_check,
            # The built-in formats judge in the participant's process, while the predictions
            # are in memory: the data is the competitor's own.
            judging=None
            if modular
            else Judging(
                checks=tuple(local.checks) if options.checks else None,
                metric=str(local.competition.get("metric") or BUILT_IN[local.format].metric),
                y_test=files.get("y_test"),
            ),
        )
        predictions = Path(scratch) / "prediction"
        try:
            result = _run(workspace, local, spec, options, Path(scratch), predictions, tee)
            result = _explain_missing_module(result, workspace, shipped)
            if result.error is not None:
                result = dataclasses.replace(result, error=tee.original(result.error))
                tee.log.append(f"error: {result.error}")  # the screen says it after the summary
        finally:
            log_path = workspace.prediction_dir / LOG_FILE
            atomic_write_text(log_path, "".join(f"{line}\n" for line in tee.log))
        report = TestReport(
            result=result,
            main_file=source,
            predictions_path=None,
            log_path=log_path,
            conversion_warnings=warnings,
        )
        kept = result.ok and not result.failures and result.deterministic is not False
        if not kept or result.predictions_path is None:
            return report
        if modular:
            report.predictions_path = _keep_predictions(predictions, workspace)
        else:  # only prediction.parquet: the user's other files in prediction/ stay
            target = workspace.prediction_dir / PREDICTION_FILE
            result.predictions_path.replace(target)
            report.predictions_path = target
    return report


class _Tee:
    """Where a test's lines go: the log file and the front-end's callback, with the paths
    of the copy the code runs from shown as the user's own files. The sandbox's notes,
    the same for every process a run starts, are shown once. The run's progress goes on
    to the callback's `progress`, when it has one."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self.on_output = on_output
        self.copies: dict[str, str] = {}
        self.log: list[str] = []
        self._notes: set[str] = set()
        self._progress: Callable[[Progress], None] | None = getattr(on_output, "progress", None)

    def __call__(self, stream: str, line: str) -> None:
        if stream == "runner":
            if line in self._notes:
                return
            self._notes.add(line)
        line = self.original(line)
        self.log.append(line)
        if self.on_output is not None:
            self.on_output(stream, line)

    def original(self, text: str) -> str:
        for copy, original in self.copies.items():
            text = text.replace(copy, original)
        return text

    def progress(self, event: Progress) -> None:
        if self._progress is not None:
            self._progress(event)


def _run(
    workspace: Workspace,
    local: LocalCompetition,
    spec: RunSpec,
    options: TestOptions,
    scratch: Path,
    predictions: Path,
    on_output: OutputCallback,
) -> RunResult:
    """The run, through the pipeline of every run: the competition's own modules (checked
    against the sha256 recorded when they were downloaded, copied beside the run: the
    metadata folder is hidden from it), else the built-in ones. The predictions go to a
    scratch folder that replaces prediction/ only on success."""
    from crunch_cli.modules import builtin
    from crunch_cli.modules.pipeline import ModuleRun, run_modules
    from crunch_cli.modules.store import local_modules
    from crunch_cli.runner.formats import has_model

    modular = local.format is Format.UNSTRUCTURED
    modules = local_modules(workspace, scratch / "modules") if modular else builtin.MODULES
    return run_modules(
        ModuleRun(
            spec=spec,
            modules=modules,
            data_directory=workspace.data_dir,
            prediction_directory=predictions,
            scratch=scratch,
            context={
                "isLocal": True,
                "timeout": spec.total_timeout,
                "trainFrequency": options.train_frequency,
                "forceFirstTrain": options.force_first_train,
                "chainHeight": 1,
                "hasModel": has_model(spec.model_dir),
                "determinismCheck": options.determinism_check,
            },
            metrics=local.metrics,
        ),
        on_output,
    )


def _keep_predictions(folder: Path, workspace: Workspace) -> Path:
    """A successful run's prediction folder becomes prediction/ (the log stays)."""
    target = workspace.prediction_dir
    for entry in target.iterdir():
        if entry.name != LOG_FILE and not entry.name.startswith(".test-"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    for entry in folder.iterdir():
        entry.replace(target / entry.name)
    return target


def _ship_code(workspace: Workspace, folder: Path) -> set[str]:
    """Hard links (copies across file systems) of the code files `crunch push` would send,
    in `folder`; returns their paths."""
    from crunch_cli.push.files import code_files

    paths = set()
    for file in code_files(workspace.root, workspace.config.model_directory):
        target = folder / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file.source, target)
        except OSError:
            shutil.copyfile(file.source, target)
        paths.add(file.path)
    folder.mkdir(parents=True, exist_ok=True)
    return paths


_MISSING_MODULE = re.compile(r"No module named '([A-Za-z_][\w.]*)'")


def _explain_missing_module(
    result: RunResult, workspace: Workspace, shipped: set[str]
) -> RunResult:
    """A module the code imports that is in the workspace but not in what push sends: say
    so, naming the file, since the hub would fail the same way."""
    match = _MISSING_MODULE.search(result.error or "")
    if result.ok or match is None:
        return result
    top = match[1].split(".")[0]
    for candidate in (f"{top}.py", f"{top}/__init__.py", top):
        left_out = (workspace.root / candidate).exists() and not any(
            path == candidate or path.startswith(f"{candidate}/") for path in shipped
        )
        if left_out:
            return dataclasses.replace(
                result,
                error=f"{result.error}: {candidate} is in your workspace but crunch push leaves "
                "it out (.gitignore or the default ignore rules), so the hub would not have it",
            )
    return result


def data_files(workspace: Workspace, release: dict[str, Any]) -> dict[str, Path]:
    described = release.get("dataFiles") or {}
    files: dict[str, Path] = {}
    for key in ("X_train", "y_train", "X_test", "y_test"):
        entry = described.get(key)
        path = workspace.data_dir / entry["name"] if entry else None
        if path is not None and path.is_file():
            files[key] = path
        elif key == "y_test":
            continue  # optional: without it there is simply no local score
        elif path is None:
            raise WorkspaceError(
                f"the data release names no {key} file",
                hint="run `crunch download` to refresh the competition metadata",
            )
        else:
            raise WorkspaceError(
                f"data/{path.name} is missing",
                hint="run `crunch download` to fetch the data",
            )
    return files


def _model_dir(workspace: Workspace, options: TestOptions) -> Path:
    path = workspace.root / options.model_directory if options.model_directory else None
    path = path or workspace.model_dir
    if path.exists() and not path.is_dir():
        raise RunnerError(
            f"the model directory {path} is a file, not a folder",
            hint="move that file away, or choose another folder with --model-directory",
        )
    path.mkdir(parents=True, exist_ok=True)
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunnerError(
            f"the model directory {path} is not writable, so train() could not save a model",
            hint=f"make it writable (chmod u+w {path}) or choose another with --model-directory",
        )
    return path


def _main_source(workspace: Workspace, options: TestOptions) -> Path:
    """The file the user writes their code in: --main-file, else main.py, else main.ipynb."""
    if options.main_file:
        path = workspace.root / options.main_file
        if not path.is_file():
            raise WorkspaceError(
                f"{options.main_file} does not exist",
                hint="pass the path of your code, relative to the workspace, to --main-file",
            )
        return path
    for name in (MAIN_FILE, MAIN_NOTEBOOK):
        if (workspace.root / name).is_file():
            return workspace.root / name
    raise WorkspaceError(
        f"no {MAIN_FILE} or {MAIN_NOTEBOOK} in {workspace.root}",
        hint="write your train() and infer() in main.py, or pass --main-file",
    )


def convert_notebook_file(notebook: Path | Sequence[str], scratch: Path) -> tuple[Path, list[str]]:
    """Write the script of a notebook (a file, or the code of its cells), and the files its
    markdown embeds, into `scratch`. The workspace gets no stray main.py."""
    from crunch_cli.convert import convert_cells, convert_notebook

    if isinstance(notebook, Path):
        conversion = convert_notebook(notebook)
    else:  # a kernel's history: a cell that failed to parse never ran, all of it goes
        conversion = convert_cells(notebook, bad_cells="comment-cell")
    scratch.mkdir(parents=True, exist_ok=True)
    script = scratch / MAIN_FILE
    _replace(script, conversion.script)
    for relative, content in conversion.embedded_files.items():
        path = (scratch / relative).resolve()
        if path.is_relative_to(scratch.resolve()) and path != script.resolve():
            path.parent.mkdir(parents=True, exist_ok=True)
            _replace(path, content)
    return script, [str(warning) for warning in conversion.warnings]


def _replace(path: Path, text: str) -> None:
    """Write a new file: the folder may hold hard links to the user's own files, which
    writing in place would change."""
    path.unlink(missing_ok=True)
    path.write_text(text)


def _memory_limit(options: TestOptions, local: LocalCompetition) -> int | None:
    megabytes = options.memory_limit_mb or local.limit("runMemoryLimitMb")
    return int(megabytes) * MIB if megabytes else None
