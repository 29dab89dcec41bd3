"""`crunch test` on competitions that ship their own runner.py and scoring.py: the runner
orchestrates in a sandbox of its own, each command of the participant's code runs in a
sandboxed child, the data fuse really closes the data, and the scoring module's metrics
are printed."""

from __future__ import annotations

import json
import pickle

import pytest

import crunch
from crunch_cli.errors import RunnerError

RUNNER = """
    import json
    import os

    from crunch.container import GeneratorWrapper
    from crunch.utils import smart_call


    def load_data(data_directory_path):
        with open(os.path.join(data_directory_path, "train.json")) as file:
            return json.load(file)


    def run(context, data_directory_path, prediction_directory_path):
        context.log(f"local={context.is_local} frequency={context.train_frequency}")
        context.execute(command="train")
        context.execute(command="infer", parameters={"scale": 2})


    def execute(context, module, data_directory_path, model_directory_path,
                prediction_directory_path):
        def train():
            with open(os.path.join(data_directory_path, "train.json")) as file:
                rows = json.load(file)
            context.trip_data_fuse()
            smart_call(module.get_function("train"),
                       {"rows": rows, "model_directory_path": model_directory_path})

        def infer(scale):
            with open(os.path.join(data_directory_path, "test.json")) as file:
                series = json.load(file)
            context.trip_data_fuse()
            wrapper = GeneratorWrapper(
                iter(series),
                lambda stream: smart_call(module.get_function("infer"), {
                    "stream": stream,
                    "model_directory_path": model_directory_path,
                    "data_directory_path": data_directory_path,
                }),
            )
            values, _ = wrapper.collect(len(series))
            path = os.path.join(prediction_directory_path, "prediction.json")
            with open(path, "w") as file:
                json.dump([value * scale for value in values], file)

        return {"train": train, "infer": infer}
"""

SCORING = """
    import json
    import os

    from crunch.unstructured import ScoredMetric, ScoredMetricDetail


    class ParticipantVisibleError(Exception):
        pass


    def _read(prediction_directory_path, data_directory_path):
        with open(os.path.join(prediction_directory_path, "prediction.json")) as file:
            predicted = json.load(file)
        with open(os.path.join(data_directory_path, "y_test.json")) as file:
            expected = json.load(file)
        return predicted, expected


    def check(prediction_directory_path, data_directory_path):
        predicted, expected = _read(prediction_directory_path, data_directory_path)
        if len(predicted) != len(expected):
            raise ParticipantVisibleError(
                f"expected {len(expected)} predictions, got {len(predicted)}")


    def score(prediction_directory_path, data_directory_path, target_and_metrics):
        predicted, expected = _read(prediction_directory_path, data_directory_path)
        right = sum(1 for a, b in zip(predicted, expected) if a == b)
        first = ScoredMetricDetail("first", float(predicted[0] == expected[0]), False)
        return {
            1: ScoredMetric(right / len(expected), [first]),
            2: ScoredMetric(float(len(expected) - right)),
        }
"""

MAIN = """
    import os


    def train(rows, model_directory_path):
        with open(os.path.join(model_directory_path, "offset.txt"), "w") as file:
            file.write(str(sum(rows) // len(rows)))


    def infer(stream, model_directory_path, data_directory_path):
        with open(os.path.join(model_directory_path, "offset.txt")) as file:
            offset = int(file.read())
        try:
            os.listdir(data_directory_path)
            print("data still readable")
        except PermissionError:
            print("data sealed")
        yield
        for value in stream:
            yield value + offset
"""

DATA = {
    "train.json": json.dumps([1, 1, 1]).encode(),
    "test.json": json.dumps([1, 2, 3]).encode(),
    "y_test.json": json.dumps([4, 6, 9]).encode(),
}


def test_crunch_test_runs_the_competitions_modules_and_prints_their_metrics(
    module_workspace, crunch
):
    root = module_workspace({"runner": RUNNER, "scoring": SCORING}, DATA, MAIN)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "local=True frequency=1" in result.output
    assert "executing - command=train" in result.output
    assert "y / accuracy" in result.stdout and "0.666667  first=1.0" in result.stdout
    assert "y / error-count" in result.stdout and "1.000000" in result.stdout
    assert json.loads((root / "prediction" / "prediction.json").read_text()) == [4, 6, 8]
    assert (root / "resources" / "offset.txt").read_text() == "1"


def test_the_data_fuse_closes_the_data_to_the_participants_code(module_workspace, crunch):
    module_workspace({"runner": RUNNER, "scoring": SCORING}, DATA, MAIN)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "data sealed" in result.stdout
    assert "data still readable" not in result.output


def test_the_runner_reads_pickles_and_json_of_any_layout(module_workspace, crunch):
    runner = """
        import json
        import os
        import pickle


        def run(context):
            context.execute(command="predict")


        def execute(context, module, data_directory_path, prediction_directory_path):
            def predict():
                with open(os.path.join(data_directory_path, "nested", "x.pkl"), "rb") as file:
                    table = pickle.load(file)
                with open(os.path.join(data_directory_path, "meta.json")) as file:
                    meta = json.load(file)
                context.trip_data_fuse()
                values = module.get_function("predict")(table, meta["factor"])
                path = os.path.join(prediction_directory_path, "prediction.json")
                with open(path, "w") as file:
                    json.dump(values, file)

            return {"predict": predict}
    """
    main = """
        def predict(table, factor):
            return [row["x"] * factor for row in table]
    """
    data = {
        "nested/x.pkl": pickle.dumps([{"x": 2}, {"x": 3}, {"x": 4.5}]),
        "meta.json": json.dumps({"factor": 2}).encode(),
        "y_test.json": json.dumps([4, 6, 9]).encode(),
    }
    root = module_workspace({"runner": runner, "scoring": SCORING}, data, main)

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert json.loads((root / "prediction" / "prediction.json").read_text()) == [4, 6, 9.0]
    assert "1.000000" in result.stdout


def test_a_failed_check_is_shown_as_the_organizer_wrote_it(module_workspace, crunch):
    data = {**DATA, "y_test.json": json.dumps([4, 6, 9, 12]).encode()}
    root = module_workspace({"runner": RUNNER, "scoring": SCORING}, data, MAIN)
    (root / "prediction").mkdir()
    (root / "prediction" / "prediction.json").write_text("[0]")

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: expected 4 predictions, got 3" in result.stderr
    assert json.loads((root / "prediction" / "prediction.json").read_text()) == [0]


def test_an_infer_that_yields_too_few_values_is_one_error(module_workspace, crunch):
    main = MAIN.replace("for value in stream:\n            yield value + offset", "yield 1")
    module_workspace({"runner": RUNNER, "scoring": SCORING}, DATA, main)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: runner.py, infer(), line" in result.stderr
    assert "previous value not yield-ed" in result.stderr or "yield" in result.stderr


def test_a_runner_with_a_syntax_error_names_the_file_and_line(module_workspace, crunch):
    module_workspace(
        {"runner": "def run(context):\n    return (\n", "scoring": SCORING}, DATA, MAIN
    )

    result = crunch("test")

    assert result.exit_code == 1
    assert "runner.py" in result.stderr
    assert "SyntaxError" in result.stderr
    assert "line 2" in result.stderr or "line 3" in result.stderr


def test_a_runner_without_execute_is_one_error(module_workspace, crunch):
    module_workspace({"runner": "def run(context):\n    pass\n", "scoring": SCORING}, DATA, MAIN)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: runner.py has no `execute` function" in result.stderr


def test_an_unknown_command_is_one_error(module_workspace, crunch):
    runner = RUNNER.replace('command="train"', 'command="fit"')
    module_workspace({"runner": runner, "scoring": SCORING}, DATA, MAIN)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: runner.py's execute() has no command 'fit' (it has: train, infer)" in (
        result.stderr
    )


def test_a_failing_participant_function_shows_only_the_participants_lines(module_workspace, crunch):
    main = MAIN.replace(
        "def train(rows, model_directory_path):\n",
        "def train(rows, model_directory_path):\n        raise ValueError('bad rows')\n",
    )
    module_workspace({"runner": RUNNER, "scoring": SCORING}, DATA, main)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: train raised ValueError: bad rows" in result.stderr
    assert "main.py" in result.stderr
    assert "runner.py" not in result.stderr.split("Traceback")[-1]


def test_a_hostile_runner_is_contained_like_a_hostile_submission(
    module_workspace, crunch, tmp_path
):
    secret = tmp_path / "beside-the-workspace.txt"
    secret.write_text("the user's own file")
    runner = f"""
        import os
        import socket


        def attempt(label, action):
            try:
                action()
                print(label, "REACHED")
            except Exception as error:
                print(label, "blocked:", type(error).__name__)


        def run(context, data_directory_path):
            attempt("token", lambda: open(os.path.join(os.getcwd(), ".crunchdao", "token")).read())
            attempt("beside", lambda: open({str(secret)!r}).read())
            attempt("home", lambda: os.listdir(os.path.expanduser("~/.ssh")))
            attempt("network", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2))
            attempt("data write", lambda: open(os.path.join(data_directory_path, "x"), "w"))


        def execute():
            return {{}}
    """
    root = module_workspace({"runner": runner}, DATA, MAIN)
    (root / ".crunchdao" / "token").write_text("project-token-value")

    result = crunch("test")

    assert result.exit_code == 0, result.output
    for label in ("token", "beside", "home", "network", "data write"):
        assert f"{label} blocked:" in result.stdout, result.stdout
    assert "REACHED" not in result.stdout
    assert secret.read_text() == "the user's own file"


def test_a_notebook_loads_the_data_through_the_runners_load_data(module_workspace):
    root = module_workspace({"runner": RUNNER, "scoring": SCORING}, DATA, MAIN)

    loaded = crunch.load_notebook(root).load_data()

    assert loaded == [1, 1, 1]


def test_load_data_returning_something_that_is_not_data_is_refused(module_workspace):
    evil = """
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo owned",))


    def load_data(data_directory_path):
        return Evil()
"""
    runner = RUNNER.replace(
        "\n    def load_data(data_directory_path):",
        evil + "\n\n    def _unused(data_directory_path):",
    )
    root = module_workspace({"runner": runner, "scoring": SCORING}, DATA, MAIN)

    with pytest.raises(RunnerError, match=r"load_data\(\) returned an object of posix.system"):
        crunch.load_notebook(root).load_data()


def test_a_runner_that_raises_names_its_file_function_and_line(module_workspace, crunch):
    runner = RUNNER.replace(
        '        context.execute(command="train")\n',
        '        raise KeyError("no such column")\n',
    )
    module_workspace({"runner": runner, "scoring": SCORING}, DATA, MAIN)

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: runner.py, run(), line 16 raised KeyError: 'no such column'" in result.stderr
    assert "executing - command=" not in result.output
