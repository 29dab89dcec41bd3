"""Read back what a runner's `load_data` returned, without letting it run code here.

`load_data` runs in the sandbox like every organizer function, and its result crosses into
the notebook as a pickle. A pickle can name any callable to rebuild an object, so it is read
with an allow-list: Python's containers and scalars, dates, and the classes and rebuilding
functions of numpy, pandas and pyarrow data. Anything else is refused by name.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from crunch_cli.errors import RunnerError

_ALLOWED_NAMES = {
    "builtins": {"bytearray", "complex", "frozenset", "range", "set", "slice"},
    "collections": {"OrderedDict"},
    "datetime": {"date", "datetime", "time", "timedelta", "timezone"},
    "numpy": {"dtype", "ndarray"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "pyarrow.lib": {"_restore_array", "py_buffer", "type_for_alias"},
    "pandas._libs.arrays": {"__pyx_unpickle_NDArrayBacked"},
    "pandas._libs.internals": {"_unpickle_block"},
    "pandas._libs.tslibs.timestamps": {"_unpickle_timestamp"},
    "pandas._libs.tslibs.timedeltas": {"_timedelta_unpickle"},
    "pandas.core.indexes.base": {"_new_Index"},
    "pandas.core.internals.managers": {"BlockManager", "SingleBlockManager"},
}
# Data classes of pandas' public namespaces: constructors of values, nothing that acts.
_PANDAS_CLASSES = {
    "pandas": {
        "Categorical", "CategoricalDtype", "CategoricalIndex", "DataFrame", "DatetimeIndex",
        "DatetimeTZDtype", "Index", "Interval", "IntervalIndex", "MultiIndex", "Period",
        "PeriodIndex", "RangeIndex", "Series", "StringDtype", "Timedelta", "TimedeltaIndex",
        "Timestamp", "BooleanDtype", "Float64Dtype", "Int64Dtype", "Int32Dtype",
    },
    "pandas.arrays": {
        "ArrowStringArray", "BooleanArray", "DatetimeArray", "FloatingArray", "IntegerArray",
        "StringArray", "TimedeltaArray",
    },
}  # fmt: skip


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED_NAMES.get(module, set()) | _PANDAS_CLASSES.get(module, set())
        if name not in allowed:
            raise RunnerError(
                f"load_data() returned an object of {module}.{name}, which is not data",
                hint="load_data should return data: pandas or numpy objects, lists, dicts",
            )
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    return _Restricted(io.BytesIO(data)).load()
