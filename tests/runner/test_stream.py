"""`crunch test` on a stream competition: message streams and the infer generator protocol."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from crunch_cli.runner.formats.stream import StreamMessage

TRAIN = """
    import os

    def train(streams, model_directory_path):
        first = streams[0]
        messages = list(first)
        again = list(first)
        print("streams", len(streams), "messages", len(messages), "re-iterable", messages == again)
        message = messages[0]
        print("fields", sorted(message), message.x == message["x"], "target" in message)
        try:
            message.x = 1
        except AttributeError as error:
            print("immutable:", error)
        with open(os.path.join(model_directory_path, "model.txt"), "w") as file:
            file.write("0.8")
"""


def test_stream_trains_on_streams_and_infers_one_prediction_per_message(make_workspace, crunch):
    workspace = make_workspace(
        "stream",
        TRAIN
        + """
    def infer(stream):
        yield
        for message in stream:
            yield 0.8 * message.x
    """,
    )

    result = crunch("test")

    assert result.exit_code == 0, result.output
    assert "streams 10 messages 180 re-iterable True" in result.stdout
    assert "fields ['id', 'moon', 'target', 'x'] True True" in result.stdout
    assert "immutable: a StreamMessage cannot be changed" in result.stdout
    prediction = pd.read_parquet(workspace.root / "prediction" / "prediction.parquet")
    assert list(prediction.columns) == ["id", "moon", "prediction"]
    assert len(prediction) == 10 * 60
    assert "local score (rmse)" in result.stdout
    assert "│ infer()" in result.stdout and "│    10 │" in result.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "    return\n    yield\n",
            "infer() ended before its first yield; `yield` once (with no value) to say it is ready",
        ),
        (
            "    for message in stream:\n        yield 1.0\n",
            "infer() must first `yield` with no value before reading the stream",
        ),
        (
            "    yield\n    for message in stream:\n        yield 1.0\n        yield 2.0\n",
            "infer() yielded twice for one message (message 2)",
        ),
        (
            "    yield\n    for index, message in enumerate(stream):\n"
            "        if index == 5:\n            return\n        yield 1.0\n",
            "infer() stopped after 5 predictions for 60 messages",
        ),
        (
            "    yield\n    for message in stream:\n        yield 1.0\n    yield 3.0\n",
            "infer() yielded more predictions than the 60 messages of the stream",
        ),
        (
            "    yield\n    for message in stream:\n        yield [1.0]\n",
            "infer() yielded list for message 1; yield one number per message",
        ),
    ],
    ids=["no-first-yield", "reads-before-ready", "twice", "too-few", "too-many", "not-a-number"],
)
def test_stream_protocol_violations_name_the_rule(make_workspace, crunch, body, message):
    make_workspace("stream", textwrap.dedent(TRAIN) + "\ndef infer(stream):\n" + body)

    result = crunch("test")

    assert result.exit_code == 1, result.output
    assert f"error: stream 'stream_00': {message}" in result.stderr
    assert "Traceback" not in result.stderr


def test_stream_infer_that_is_not_a_generator_is_refused(make_workspace, crunch):
    make_workspace("stream", textwrap.dedent(TRAIN) + "\ndef infer(stream):\n    return [1.0]\n")

    result = crunch("test")

    assert result.exit_code == 1
    assert "error: infer() must be a generator function" in result.stderr


def test_stream_message_reads_by_attribute_and_key_but_never_changes():
    message = StreamMessage({"moon": 3, "x": 0.5})

    assert (message.moon, message["x"], dict(message)) == (3, 0.5, {"moon": 3, "x": 0.5})
    with pytest.raises(AttributeError, match="cannot be changed"):
        message.x = 1.0
    with pytest.raises(AttributeError, match="no field 'y'"):
        _ = message.y
    with pytest.raises(TypeError):
        message["x"] = 1.0  # type: ignore[index]
