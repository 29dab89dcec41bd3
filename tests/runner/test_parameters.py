"""Parameters of train()/infer() are filled by name, whatever their order or annotations."""

from __future__ import annotations

import pytest

from crunch_cli.runner.calls import Caller, Events
from crunch_cli.runner.gpu import detect_gpu

VALUES = {"X_train": "frame", "model_directory_path": "resources", "embargo": 2}


def caller(function) -> Caller:
    return Caller(function, function.__name__, Events(None))


def call(function, values=VALUES):
    target = caller(function)
    return target(values)


def test_known_names_are_filled_in_any_order_and_annotations_are_ignored():
    def train(embargo: str, model_directory_path: int, X_train: list) -> tuple:
        return embargo, model_directory_path, X_train

    assert call(train) == (2, "resources", "frame")


def test_a_parameter_with_a_default_keeps_it(capsys):
    def train(X_train, my_custom_value=42):
        return my_custom_value

    assert call(train) == 42
    assert capsys.readouterr().err == ""


def test_an_unknown_parameter_gets_none_with_one_warning_for_all_calls(capsys):
    def infer(X_train, mystery):
        return mystery

    target = caller(infer)
    assert [target(VALUES), target(VALUES)] == [None, None]
    assert capsys.readouterr().err == (
        "warning: infer() parameter 'mystery' is unknown: it receives None\n"
    )


def test_star_args_and_kwargs_receive_nothing_with_a_warning(capsys):
    def train(X_train, *args, **kwargs):
        return X_train, args, kwargs

    assert call(train) == ("frame", (), {})
    err = capsys.readouterr().err
    assert "warning: train() takes *args: nothing is passed to it" in err
    assert "warning: train() takes **kwargs: nothing is passed to it" in err


def test_positional_only_and_keyword_only_parameters_are_filled():
    def train(X_train, /, *, embargo):
        return X_train, embargo

    assert call(train) == ("frame", 2)


@pytest.mark.parametrize(("flag", "expected"), [("--gpu", "True"), ("--no-gpu", "False")])
def test_has_gpu_follows_the_gpu_flag(make_workspace, crunch, flag, expected):
    make_workspace(
        "cross-sectional",
        """
        def train(has_gpu, number_of_features, id_column_name, moon_column_name, my_value=7):
            print("train sees", has_gpu, number_of_features, id_column_name, moon_column_name,
                  my_value)

        def infer(X_test, has_gpu, unknown_thing):
            print("infer sees", has_gpu, unknown_thing)
            return X_test[["id"]].assign(prediction=0)
        """,
    )

    result = crunch("test", flag)

    assert result.exit_code == 0, result.output
    assert f"train sees {expected} 20 id None 7" in result.stdout
    assert f"infer sees {expected} None" in result.stdout
    assert "warning: infer() parameter 'unknown_thing' is unknown: it receives None" in (
        result.stderr
    )


@pytest.mark.parametrize("visible", ["", "-1"])
def test_no_gpu_is_detected_when_cuda_visible_devices_hides_them(monkeypatch, visible):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)

    assert detect_gpu() is False
