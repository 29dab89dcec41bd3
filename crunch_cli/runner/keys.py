"""Row keys as integers: matching prediction rows to X_test or y_test rows by (id, moon).

Merging frames on string ids hashes every string again for each merge; factorizing the
key columns once into one int64 per row makes every later match a fast integer lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def row_keys(frames: Sequence[pd.DataFrame], columns: Sequence[str]) -> list[np.ndarray]:
    """One int64 per row of each frame, equal across frames exactly when the keys are."""
    import numpy as np
    import pandas as pd

    combined = np.zeros(sum(len(frame) for frame in frames), dtype="int64")
    for column in columns:
        values = pd.concat([frame[column] for frame in frames], ignore_index=True)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        combined = combined * (len(uniques) + 1) + (codes.astype("int64") + 1)
    return np.split(combined, np.cumsum([len(frame) for frame in frames])[:-1])


def aligned(first: pd.DataFrame, second: pd.DataFrame, columns: Sequence[str]) -> bool:
    """True when both frames hold the same keys in the same order: the usual case, which
    a direct comparison settles in a millisecond where matching takes a hash of every key."""
    if len(first) != len(second):
        return False
    return all(
        first[column].reset_index(drop=True).equals(second[column].reset_index(drop=True))
        for column in columns
    )
