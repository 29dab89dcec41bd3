"""Side by side: `crunch convert` and crunch-convert 0.12.3 (CrunchDAO's converter).

Installs crunch-convert into a throwaway virtual environment under a temporary folder,
then prints:

- start-up: `crunch convert --help` vs `crunch-convert --help`, median of N runs;
- a generated 2,000-cell notebook converted end to end by each command line, and by each
  library call in-process (the core without interpreter start-up), median of M runs;
- whether both produce the same script for that notebook, and for every case of our golden
  corpus (tests/convert/corpus) that their converter handles: the differing cases are
  listed, to be read against the rules of `crunch convert`.

Targets: our --help at most 0.5x theirs; our conversion under a third of theirs.

    .venv/bin/python benchmarks/convert_bench.py [--cells 2000] [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

THEIRS = "crunch-convert==0.12.3"

CELL_KINDS = [
    "import numpy as np\nimport pandas as pd  # == 2.2\nfrom sklearn.linear_model import Ridge\n",
    "def feature_{n}(frame):\n    values = frame.values\n    return np.log1p(values) * {n}\n",
    "data_{n} = pd.read_parquet('data/X_train.parquet')\ndata_{n}['f'] = data_{n}['a'] * 2\n",
    "for column in ['a', 'b', 'c']:\n    print(column, {n})\n",
    "%matplotlib inline\n!ls data\nprint('cell {n}')\n",
    "class Model{n}:\n    def __init__(self, alpha={n}):\n        self.alpha = alpha\n\n"
    "    def fit(self, X, y):\n        self.model = Ridge(alpha=self.alpha).fit(X, y)\n"
    "        return self\n",
    "results = {{\n    'score': {n},\n    'name': \"model {n}\",\n}}\nresults\n",
    "if __name__ == '__main__':\n    train_{n} = True\n    print(train_{n})\n",
]


def make_notebook(path: Path, cells: int) -> None:
    def cell(index: int) -> dict:
        if index % 9 == 8:
            return {
                "cell_type": "markdown",
                "id": f"m{index}",
                "metadata": {},
                "source": "## Notes",
            }
        source = CELL_KINDS[index % len(CELL_KINDS)].format(n=index)
        return {
            "cell_type": "code",
            "id": f"c{index}",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }

    notebook = {
        "cells": [cell(index) for index in range(cells)],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def median_of(runs: int, command: list[str], cwd: Path) -> float:
    timed(command, cwd)  # warm the file cache
    return statistics.median(timed(command, cwd) for _ in range(runs))


def in_process(python: str, code: str, cwd: Path) -> float:
    """Seconds one library call takes, measured inside the interpreter that runs it."""
    output = subprocess.run(
        [python, "-c", code], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout
    return float(output.strip().splitlines()[-1])


OURS_CALL = """
import time
from pathlib import Path
from crunch_cli.convert import convert_notebook
started = time.perf_counter()
convert_notebook(Path("notebook.ipynb"))
print(time.perf_counter() - started)
"""

THEIRS_CALL = """
import time
from crunch_convert.notebook import extract_from_file
started = time.perf_counter()
extract_from_file("notebook.ipynb")
print(time.perf_counter() - started)
"""


CORPUS = Path(__file__).resolve().parents[1] / "tests" / "convert" / "corpus"

THEIRS_CORPUS = """
import json, sys
from crunch_convert.notebook import extract_from_cells
from crunch_convert.notebook._notebook import BadCellHandling
results = {}
for name, (cells, comment) in json.load(sys.stdin).items():
    try:
        handling = BadCellHandling.COMMENT if comment else BadCellHandling.RAISE
        flat = extract_from_cells(cells, print=None, bad_cell_handling=handling)
        results[name] = flat.source_code
    except Exception:
        results[name] = None
print(json.dumps(results))
"""


def compare_corpus(python: Path) -> None:
    """Their script for each corpus case next to our expected.py."""
    cases = {}
    for case in sorted(path for path in CORPUS.iterdir() if path.is_dir()):
        if (case / "notebook.ipynb").exists():
            cells = json.loads((case / "notebook.ipynb").read_text())["cells"]
        else:
            cells = json.loads((case / "cells.json").read_text())
        cells = [
            {"cell_type": "code", "source": cell, "metadata": {}}
            if isinstance(cell, str)
            else {"metadata": {}, **cell}
            for cell in cells
        ]
        options = (case / "options.json").read_text() if (case / "options.json").exists() else ""
        cases[case.name] = (cells, '"comment"' in options)
    theirs = json.loads(
        subprocess.run(
            [str(python), "-c", THEIRS_CORPUS],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    same, different, they_fail, we_refuse = [], [], [], []
    for name, script in theirs.items():
        expected = CORPUS / name / "expected.py"
        if script is None:
            they_fail.append(name)
        elif not expected.exists():
            we_refuse.append(name)
        elif expected.read_text() == script:
            same.append(name)
        else:
            different.append(name)
    print(f"corpus: {len(theirs)} cases; same script {len(same)}")
    print(f"  different script ({len(different)}): {', '.join(different)}")
    print(f"  theirs raises ({len(they_fail)}): {', '.join(they_fail)}")
    print(f"  theirs converts, ours refuses ({len(we_refuse)}): {', '.join(we_refuse)}")


def install_theirs(folder: Path) -> Path | None:
    """The crunch-convert executable in a fresh venv, or None (and why) if pip fails."""
    environment = folder / "crunch-convert-venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", THEIRS],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(f"could not install {THEIRS}, measuring ours only:\n{result.stderr.strip()}")
        return None
    return environment / "bin"


def row(label: str, ours: float, theirs: float | None, target: float) -> None:
    if theirs is None:
        print(f"{label:<34} ours {ours * 1000:8.1f} ms")
        return
    ratio = ours / theirs
    verdict = "meets" if ratio <= target else "MISSES"
    print(
        f"{label:<34} ours {ours * 1000:8.1f} ms   theirs {theirs * 1000:8.1f} ms   "
        f"ratio {ratio:.2f} ({verdict} target <= {target:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--conversion-runs", type=int, default=5)
    options = parser.parse_args()

    ours_bin = Path(sys.executable).parent
    crunch = str(ours_bin / "crunch")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        theirs_bin = install_theirs(folder)
        notebook = folder / "notebook.ipynb"
        make_notebook(notebook, options.cells)
        print(f"notebook: {options.cells} cells, {notebook.stat().st_size / 1e6:.1f} MB")

        ours_help = median_of(options.runs, [crunch, "convert", "--help"], folder)
        theirs_help = (
            median_of(options.runs, [str(theirs_bin / "crunch-convert"), "--help"], folder)
            if theirs_bin
            else None
        )
        row(f"--help start-up (median of {options.runs})", ours_help, theirs_help, 0.5)

        runs = options.conversion_runs
        ours_cli = median_of(
            runs, [crunch, "convert", "notebook.ipynb", "ours.py", "--force"], folder
        )
        theirs_cli = (
            median_of(
                runs,
                [
                    str(theirs_bin / "crunch-convert"),
                    "notebook",
                    "notebook.ipynb",
                    "theirs.py",
                    "--override",
                ],
                folder,
            )
            if theirs_bin
            else None
        )
        row(f"command line, end to end (median {runs})", ours_cli, theirs_cli, 1 / 3)

        ours_core = statistics.median(
            in_process(sys.executable, OURS_CALL, folder) for _ in range(runs)
        )
        theirs_core = (
            statistics.median(
                in_process(str(theirs_bin / "python"), THEIRS_CALL, folder) for _ in range(runs)
            )
            if theirs_bin
            else None
        )
        row(f"library call, in-process (median {runs})", ours_core, theirs_core, 1 / 3)

        if theirs_bin:
            same = (folder / "ours.py").read_text() == (folder / "theirs.py").read_text()
            print(f"same script for the generated notebook: {'yes' if same else 'NO'}")
            if not same:
                subprocess.run(["diff", "theirs.py", "ours.py"], cwd=folder, check=False)
            compare_corpus(theirs_bin / "python")


if __name__ == "__main__":
    main()
