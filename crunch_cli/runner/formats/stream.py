"""Stream: train on whole streams, then infer message by message through a generator.

`infer(stream)` must be a generator: its first `yield` (of nothing) says it is ready, then
it yields exactly one prediction per message it reads from the stream. The stream handed
to it counts what was read, so each break of that rule is caught at the message where it
happens and named in the error.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

from crunch_cli.runner.calls import Caller, Events, ProtocolError
from crunch_cli.runner.formats import common_values, has_model, read_frame

if TYPE_CHECKING:
    import pandas as pd

    from crunch_cli.runner.spec import ColumnNames, RunSpec


class StreamMessage(Mapping[str, Any]):
    """One row of a stream; read it as `message.x` or `message["x"]`, never change it."""

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_fields", dict(fields))

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"this message has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError("a StreamMessage cannot be changed")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("a StreamMessage cannot be changed")

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        inside = ", ".join(f"{key}={value!r}" for key, value in self._fields.items())
        return f"StreamMessage({inside})"


class Stream:
    """A named, re-iterable sequence of messages: each `iter()` starts from the first one."""

    def __init__(self, name: Any, columns: dict[str, list[Any]], start: int, end: int) -> None:
        self.name = name
        self._columns = columns
        self._start = start
        self._end = end

    def __iter__(self) -> Iterator[StreamMessage]:
        for row in range(self._start, self._end):
            yield StreamMessage({key: values[row] for key, values in self._columns.items()})

    def __len__(self) -> int:
        return self._end - self._start

    def __repr__(self) -> str:
        return f"Stream({self.name!r}, {len(self)} messages)"


class _CountingStream:
    """What infer() reads: the stream's messages, counted as they are taken."""

    def __init__(self, stream: Stream) -> None:
        self.name = stream.name
        self._messages = iter(stream)
        self.taken = 0
        self.last: StreamMessage | None = None

    def __iter__(self) -> Iterator[StreamMessage]:
        return self

    def __next__(self) -> StreamMessage:
        self.last = next(self._messages)
        self.taken += 1
        return self.last


def split_streams(frame: pd.DataFrame, id_column: str, moon_column: str | None) -> list[Stream]:
    """One stream per id, in order of first appearance, messages in moon order."""
    import pandas as pd

    order = [id_column] if moon_column is None else [id_column, moon_column]
    codes = pd.Categorical(frame[id_column], categories=frame[id_column].unique()).codes
    frame = frame.assign(_stream=codes).sort_values(["_stream", *order[1:]], kind="stable")
    frame = frame.drop(columns="_stream").reset_index(drop=True)
    columns = {str(key): frame[key].tolist() for key in frame.columns}
    ids = columns[id_column]
    streams = []
    start = 0
    for row in range(1, len(ids) + 1):
        if row == len(ids) or ids[row] != ids[start]:
            streams.append(Stream(ids[start], columns, start, row))
            start = row
    return streams


def training_streams(
    x_train: pd.DataFrame, y_train: pd.DataFrame, columns: ColumnNames
) -> list[Stream]:
    """The training rows as streams, with the target columns of y_train joined on."""
    extra = [key for key in y_train.columns if key not in x_train.columns]
    if extra and all(key in y_train.columns for key in columns.keys):
        x_train = x_train.merge(y_train[[*columns.keys, *extra]], on=columns.keys, how="left")
    return split_streams(x_train, columns.id, columns.moon)


class StreamRun:
    def __init__(self, module: Any, spec: RunSpec, events: Events) -> None:
        self.spec = spec
        self.events = events
        self.train = Caller.find(module, "train", events)
        self.infer = Caller.find(module, "infer", events)
        if not inspect.isgeneratorfunction(self.infer.function):
            raise ProtocolError(
                "infer() must be a generator function: `yield` once when ready, "
                "then `yield` one prediction per message"
            )
        self.values = common_values(spec)
        columns = spec.columns
        self.test_streams = split_streams(
            read_frame(spec.data_files.x_test), columns.id, columns.moon
        )

    def run(self) -> pd.DataFrame:
        import pandas as pd

        trains = self.spec.force_train or not has_model(self.spec.model_dir)
        self.events.send(type="plan", total=len(self.test_streams), unit="streams")
        if trains:
            self.train({**self.values, "streams": self._train_streams(), "has_trained": True})
        rows = [row for stream in self.test_streams for row in self._infer(stream, trains)]
        if not rows:
            raise ProtocolError("X_test has no rows: there is no stream to infer")
        return pd.DataFrame(rows, columns=self._prediction_columns())

    def infer_sample(self) -> pd.DataFrame:
        import pandas as pd

        rows = self._infer(self.test_streams[0], has_trained=False)
        return pd.DataFrame(rows, columns=self._prediction_columns())

    def _prediction_columns(self) -> list[str]:
        return [*self.spec.columns.keys, self.spec.columns.prediction]

    def _train_streams(self) -> list[Stream]:
        x_train = read_frame(self.spec.data_files.x_train)
        y_train = read_frame(self.spec.data_files.y_train)
        return training_streams(x_train, y_train, self.spec.columns)

    def _infer(self, stream: Stream, has_trained: bool) -> list[tuple[Any, ...]]:
        counting = _CountingStream(stream)
        values = {**self.values, "stream": counting, "has_trained": has_trained}
        positional, named = self.infer.arguments(values)
        name = stream.name
        with self.events.framing("infer", name):
            generator = self.infer.function(*positional, **named)
            try:
                ready = next(generator)
            except StopIteration:
                raise ProtocolError(
                    f"stream {name!r}: infer() ended before its first yield; "
                    "`yield` once (with no value) to say it is ready"
                ) from None
            if counting.taken or ready is not None:
                raise ProtocolError(
                    f"stream {name!r}: infer() must first `yield` with no value before "
                    "reading the stream, to say it is ready"
                )
            rows = []
            for index in range(len(stream)):
                try:
                    prediction = next(generator)
                except StopIteration:
                    raise ProtocolError(
                        f"stream {name!r}: infer() stopped after {index} predictions for "
                        f"{len(stream)} messages; yield exactly one prediction per message"
                    ) from None
                if counting.taken != index + 1:
                    if counting.taken > index:
                        rule = "after reading more than one message"
                    elif index == 0:
                        rule = "before reading any message"
                    else:
                        rule = "twice for one message"
                    raise ProtocolError(
                        f"stream {name!r}: infer() yielded {rule} (message {index + 1}); "
                        "yield exactly one prediction per message read"
                    )
                rows.append(self._row(name, counting.last, prediction, index))
            try:
                next(generator)
            except StopIteration:
                return rows
            raise ProtocolError(
                f"stream {name!r}: infer() yielded more predictions than the {len(stream)} "
                "messages of the stream; yield exactly one prediction per message"
            )

    def _row(
        self, name: Any, message: StreamMessage | None, prediction: Any, index: int
    ) -> tuple[Any, ...]:
        try:
            value = float(prediction)
        except (TypeError, ValueError):
            raise ProtocolError(
                f"stream {name!r}: infer() yielded {type(prediction).__name__} for message "
                f"{index + 1}; yield one number per message"
            ) from None
        moon = self.spec.columns.moon
        if moon is None or message is None:
            return (name, value)
        return (name, message[moon], value)
