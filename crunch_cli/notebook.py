"""The notebook API: `crunch = crunch_cli.load_notebook()`, then `crunch.load_data()` and
`crunch.test()`.

`test()` runs the same child-process runner as `crunch test`, on the code the kernel has
executed so far (converted like a notebook), so the notebook need not even be saved.
Outside a kernel it falls back to the workspace's main.py or main.ipynb. Results print
into the cell; failures print as an error line and a hint, not as a traceback of ours.
Unlike `crunch test` on a terminal, no progress is drawn: a cell's output keeps only the
code's own lines and the summary, and a bar's control sequences would be garbage there.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crunch_cli.errors import CrunchError
from crunch_cli.workspace import Workspace

if TYPE_CHECKING:
    from crunch_cli.runner.formats.stream import Stream
    from crunch_cli.runner.local import LocalCompetition, TestReport


class Notebook:
    """The competition seen from a notebook in (or under) a workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    @property
    def competition(self) -> LocalCompetition:
        from crunch_cli.runner.local import LocalCompetition

        return LocalCompetition.read(self.workspace)

    def load_data(self) -> Any:
        """X_train, y_train and X_test, as train() and infer() will receive them; for a
        competition that ships its own modules, what its runner's `load_data` returns."""
        import pandas as pd

        from crunch_cli.runner.spec import Format

        if self.competition.format is Format.UNSTRUCTURED:
            return self._runner_data()

        from crunch_cli.runner.local import data_files

        files = data_files(self.workspace, self.competition.release)
        return (
            pd.read_parquet(files["X_train"]),
            pd.read_parquet(files["y_train"]),
            pd.read_parquet(files["X_test"]),
        )

    def _runner_data(self) -> Any:
        import tempfile

        from crunch_cli.modules.pipeline import load_runner_data
        from crunch_cli.modules.store import local_modules
        from crunch_cli.runner.spec import Format, RunSpec

        workspace = self.workspace
        workspace.prediction_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".load-", dir=workspace.prediction_dir) as scratch:
            runner = local_modules(workspace, Path(scratch) / "modules")["runner"]
            spec = RunSpec(
                main_file=runner,
                model_dir=workspace.model_dir,
                data=None,
                format=Format.UNSTRUCTURED,
                prediction_path=Path(scratch) / ".run",
                hidden_paths=(workspace.metadata_dir,),
            )
            return load_runner_data(spec, runner, workspace.data_dir, Path(scratch))

    def submit(
        self,
        message: str | None = None,
        model_directory_relative_path: str = "",
        include_installed_packages_version: bool = False,
        notebook_file_name: str = "notebook.ipynb",
        main_file_name: str = "main.py",
        print_convert_logs: bool = False,
    ) -> Submitted | None:
        """Push the notebook being run, converted like `crunch push` converts one, with the
        workspace's other files (crunch-cli 13's keyword arguments, same meanings;
        `notebook_file_name` named a scratch file there and writes nothing here). The
        notebook is the file the editor runs (VS Code, Jupyter), else the code the kernel
        executed; `include_installed_packages_version` pins requirements.txt to the installed
        versions. Returns None, after printing why, when nothing was submitted.
        """
        from crunch_cli.environments import Settings
        from crunch_cli.push.bundle import build_bundle
        from crunch_cli.push.submit import submit
        from crunch_cli.push.upload import CACHE_FILE, UploadCache

        del notebook_file_name, model_directory_relative_path  # the workspace's settings rule
        notebook = _running_notebook(self.workspace) or _kernel_cells()
        cache = UploadCache(self.workspace.metadata_dir / CACHE_FILE)
        try:
            bundle = build_bundle(
                self.workspace,
                main_file=main_file_name,
                freeze=include_installed_packages_version,
                cache=cache,
                notebook=notebook,
            )
            if print_convert_logs:
                for note in bundle.notes:
                    print(f"note: {note}", file=sys.stderr)
            submission, sent = submit(
                Settings().workspace(self.workspace).client(),
                self.workspace,
                bundle,
                cache,
                message=message or "",
            )
        except CrunchError as error:
            _print_error(error)
            return None
        submitted = Submitted(int(submission["number"]), len(bundle.files), sent)
        print(f"Submission #{submitted.number} created: {submitted.files} files")
        return submitted

    def load_streams(self) -> tuple[list[Stream], list[Stream]]:
        """Stream competitions: the training streams (targets joined) and the test streams."""
        from crunch_cli.runner.formats.stream import split_streams, training_streams

        columns = self.competition.columns
        x_train, y_train, x_test = self.load_data()
        return (
            training_streams(x_train, y_train, columns),
            split_streams(x_test, columns.id, columns.moon),
        )

    def test(
        self,
        *,
        main_file: str | None = None,
        model_directory: str | None = None,
        timeout: float | None = None,
        memory_limit: int | None = None,
        network: bool = False,
        train_frequency: int = 1,
        force_first_train: bool = True,
        force_train: bool = False,
        gpu: bool | None = None,
        checks: bool = True,
        determinism_check: bool = False,
        no_determinism_check: bool | None = None,
        raise_abort: bool = False,
        round_number: str | int = "@current",
        skip_whitelisted_library_scan: bool = False,
    ) -> TestReport | None:
        """Run train() and infer() like `crunch test` does (same options, and crunch-cli
        13's keyword arguments); returns the report, or None when the test could not start.
        `report.result.ok` tells success; with `raise_abort`, a failure raises instead.
        `round_number` is accepted for crunch-cli 13's callers: the local data is the round's.
        """
        from crunch_cli.runner.local import TestOptions, test_workspace

        del round_number, skip_whitelisted_library_scan
        if no_determinism_check is not None:
            determinism_check = not no_determinism_check
        options = TestOptions(
            main_file=main_file,
            model_directory=model_directory,
            timeout=timeout,
            memory_limit_mb=memory_limit,
            network=network,
            train_frequency=train_frequency,
            force_first_train=force_first_train,
            force_train=force_train,
            gpu=gpu,
            checks=checks,
            determinism_check=determinism_check,
        )
        cells = None if main_file else _kernel_cells()
        try:
            report = test_workspace(self.workspace, options, _print_line, notebook_cells=cells)
        except CrunchError as error:
            _print_error(error)
            if raise_abort:
                raise
            return None
        _print_report(report)
        if raise_abort:
            report.raise_for_failure()
        return report


@dataclasses.dataclass(frozen=True)
class Submitted:
    """What `submit()` returns: short when it is a cell's last value."""

    number: int
    files: int
    sent_bytes: int

    def __repr__(self) -> str:
        return f"<submission #{self.number}: {self.files} files>"


def load_notebook(directory: str | Path | None = None) -> Notebook:
    """The notebook API for the workspace holding `directory` (default: the current folder)."""
    return Notebook(Workspace.find(Path(directory) if directory else None))


def _running_notebook(workspace: Workspace) -> Path | None:
    """The notebook file being run, as VS Code and Jupyter tell their kernels."""
    import os

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    candidates = [
        shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None,
        os.environ.get("JPY_SESSION_NAME"),
    ]
    for candidate in candidates:
        if candidate and str(candidate).endswith(".ipynb"):
            path = Path(candidate)
            path = path if path.is_absolute() else workspace.root / path
            if path.is_file():
                return path
    return None


def _kernel_cells() -> list[str] | None:
    """The cells the running IPython kernel executed, in order; None outside a kernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    history: list[str] = list(shell.history_manager.input_hist_raw)
    return [cell for cell in history if cell.strip()]


def _print_line(source: str, line: str) -> None:
    from crunch_cli.terminal import shown

    print(shown(line), file=sys.stderr if source == "stderr" else sys.stdout, flush=True)


def _print_error(error: CrunchError) -> None:
    from crunch_cli.terminal import shown

    print(f"error: {shown(error.message)}", file=sys.stderr)
    if error.hint:
        print(f"hint: {shown(error.hint)}", file=sys.stderr)


def _print_report(report: TestReport) -> None:
    from rich.console import Console

    from crunch_cli.runner.summary import failure_lines, render

    Console().print(render(report))
    for line in failure_lines(report):
        _print_line("stderr", line)
    try:
        report.raise_for_failure()
    except CrunchError as error:
        _print_error(error)


__all__ = ["Notebook", "load_notebook"]
