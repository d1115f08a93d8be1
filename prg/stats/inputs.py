"""Checks on the arguments of the statistics: counts, group names. Errors are ValueErrors in plain words."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_counts(name: str, values: ArrayLike, length: int | None = None) -> NDArray[np.int64]:
    """Validate a 1-D vector of non-negative whole numbers (floats like 3.0 are accepted) as int64."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional list of counts")
    if length is not None and arr.shape[0] != length:
        raise ValueError(f"{name} has {arr.shape[0]} values but there are {length} groups")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.size == 0):
        raise ValueError(f"{name} must contain numbers")
    if arr.size == 0:
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must not contain NaN or infinite values")
        if not np.all(arr == np.floor(arr)):
            raise ValueError(f"{name} must contain whole numbers")
    elif not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must contain whole numbers")
    if np.any(arr < 0):
        raise ValueError(f"{name} must not contain negative counts")
    return arr.astype(np.int64)


def check_groups(groups: Sequence[str]) -> tuple[str, ...]:
    names = tuple(groups)
    if not names:
        raise ValueError("at least one group is needed")
    if len(set(names)) != len(names):
        raise ValueError("group names must be unique")
    return names
