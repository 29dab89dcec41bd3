"""The public `crunch-cli` on a competition that ships its own runner.py and scoring.py,
served by our hub: with `--competitions cache+http://HUB` it loads the runner from the hub,
and its in-process `crunch test` must leave the same predictions as our sandboxed one on
the same data and the same participant's code."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_public_client import set_up

from crunch_cli.hub import organizer

pytestmark = pytest.mark.slow

NAME = "modular-interop"

# Reads a CSV and a JSON file of a nested folder, trips the fuse before any participant's
# code runs, and streams the test series through GeneratorWrapper. It logs its own
# `__file__`: crunch-cli sets it to where its loader found the source, a URL for the cache.
RUNNER = """
    import json
    import os

    from crunch.container import GeneratorWrapper
    from crunch.utils import smart_call


    def run(context):
        context.log(f"runner loaded from {__file__}")
        context.execute(command="train")
        context.execute(command="infer", parameters={"digits": 12})


    def execute(context, module, data_directory_path, model_directory_path,
                prediction_directory_path):
        def train():
            with open(os.path.join(data_directory_path, "train.csv")) as file:
                rows = [tuple(map(float, line.split(","))) for line in file.read().split()]
            context.trip_data_fuse()
            smart_call(module.get_function("train"),
                       {"rows": rows, "model_directory_path": model_directory_path})

        def infer(digits):
            with open(os.path.join(data_directory_path, "test", "x_test.json")) as file:
                series = json.load(file)
            context.trip_data_fuse()
            wrapper = GeneratorWrapper(
                iter(series),
                lambda stream: smart_call(module.get_function("infer"), {
                    "stream": stream,
                    "digits": digits,
                    "model_directory_path": model_directory_path,
                    "prediction_directory_path": prediction_directory_path,
                }),
            )
            wrapper.collect(len(series))

        return {"train": train, "infer": infer}
"""

SCORING = """
    import json
    import os

    from crunch.unstructured import ScoredMetric


    def score(prediction_directory_path, data_directory_path):
        with open(os.path.join(data_directory_path, "y_test.json")) as file:
            expected = json.load(file)
        with open(os.path.join(prediction_directory_path, "prediction.csv")) as file:
            predicted = [float(line.split(",")[1]) for line in file.read().split()[1:]]
        error = sum(abs(a - b) for a, b in zip(predicted, expected)) / len(expected)
        return {1: ScoredMetric(error)}
"""

# A least-squares line, then one prediction per element of the stream; the participant
# writes the file once the stream is exhausted (GeneratorWrapper.collect drains it).
MAIN = """
    import json
    import os


    def train(rows, model_directory_path):
        n = len(rows)
        mean_x = sum(x for x, _ in rows) / n
        mean_y = sum(y for _, y in rows) / n
        slope = sum((x - mean_x) * (y - mean_y) for x, y in rows) / sum(
            (x - mean_x) ** 2 for x, _ in rows
        )
        with open(os.path.join(model_directory_path, "model.json"), "w") as file:
            json.dump({"slope": slope, "intercept": mean_y - slope * mean_x}, file)


    def infer(stream, digits, model_directory_path, prediction_directory_path):
        with open(os.path.join(model_directory_path, "model.json")) as file:
            model = json.load(file)
        yield
        lines = ["index,prediction"]
        for index, x in enumerate(stream):
            value = round(model["slope"] * x + model["intercept"], digits)
            lines.append(f"{index},{value!r}")
            yield value
        with open(os.path.join(prediction_directory_path, "prediction.csv"), "w") as file:
            file.write("\\n".join(lines) + "\\n")
"""


@pytest.fixture
def competition(hub, tmp_path: Path) -> str:
    """An unstructured competition on the hub, made from the modules above."""
    data, modules = tmp_path / "organizer" / "data", tmp_path / "organizer" / "scoring"
    (data / "hidden").mkdir(parents=True)
    (data / "test").mkdir()
    modules.mkdir()
    train = [
        (index * 0.37 % 1.7, 2.5 * (index * 0.37 % 1.7) + (index % 7) / 9) for index in range(200)
    ]
    (data / "train.csv").write_text("".join(f"{x!r},{y!r}\n" for x, y in train))
    test = [index * 0.013 for index in range(50)]
    (data / "test" / "x_test.json").write_text(json.dumps(test))
    (data / "hidden" / "y_test.json").write_text(json.dumps([2.5 * x for x in test]))
    (modules / "runner.py").write_text(textwrap.dedent(RUNNER))
    (modules / "scoring.py").write_text(textwrap.dedent(SCORING))
    organizer.create_unstructured_competition(
        hub.settings, NAME, data, modules, metrics=["mae"], target="y", lower_is_better=True
    )
    return NAME


def predictions(workspace: Path) -> dict[str, bytes]:
    """Every file a run left in the workspace's prediction folder, by relative path."""
    folder = workspace / "prediction"
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@contextlib.contextmanager
def stopwatch(step: str, timings: dict[str, float]) -> Iterator[None]:
    """Time one step; the figures are printed (pytest -s) to compare both clients' costs."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = time.perf_counter() - started


def test_public_client_runs_our_hubs_modules_like_our_crunch_test(
    public_crunch, our_crunch, hub, competition, tmp_path
):
    theirs_cli = dataclasses.replace(
        public_crunch, argv=(*public_crunch.argv, "--competitions", f"cache+{hub.url}")
    )
    timings: dict[str, float] = {}

    with stopwatch("13.0.1 setup", timings):
        theirs = set_up(theirs_cli, hub, tmp_path / "theirs", competition=competition)
    (theirs / "main.py").write_text(textwrap.dedent(MAIN))
    with stopwatch("13.0.1 test", timings):
        theirs_test = theirs_cli.ok("test", cwd=theirs)
    with stopwatch("our setup", timings):
        ours = set_up(our_crunch, hub, tmp_path / "ours", competition=competition)
    (ours / "main.py").write_text(textwrap.dedent(MAIN))
    with stopwatch("our test", timings):
        ours_test = our_crunch.ok("test", cwd=ours)
    print(", ".join(f"{step} {seconds:.2f} s" for step, seconds in timings.items()))

    # 13.0.1 names a module after where its loader found it: here, the hub's URL.
    loaded_from = f"runner loaded from {hub.url}/competitions/{competition}/scoring/runner.py"
    assert loaded_from in theirs_test.stdout + theirs_test.stderr
    assert (theirs / "data" / "test" / "x_test.json").is_file()
    assert not (theirs / "data" / "hidden").exists()
    assert "not scored: needs y_test.json, which only the hub has" in ours_test.stdout
    theirs_files, ours_files = predictions(theirs), predictions(ours)
    assert list(theirs_files) == ["prediction.csv"]
    # Ours also keeps the run's log beside the predictions (README: `prediction/log.txt`).
    assert ours_files.pop("log.txt").startswith(b"sandbox: ")
    assert ours_files == theirs_files
    lines = theirs_files["prediction.csv"].decode().split()
    assert len(lines) == 51 and lines[0] == "index,prediction"
    model = "resources/model.json"
    assert (ours / model).read_bytes() == (theirs / model).read_bytes()
