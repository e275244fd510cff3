"""Time as int64 nanoseconds.

Every timestamp in drivestack is an ``int`` / ``np.int64`` count of nanoseconds
(``timestamp_ns``); durations are ``*_ns`` too. Conversions to seconds happen at
the edge (plots, physics integration) with the helpers below.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import brief_repr

NS_PER_S: int = 1_000_000_000
#: the range of an int64 count of nanoseconds (about +-292 years)
INT64_MIN: int = -(2**63)
INT64_MAX: int = 2**63 - 1


def seconds_to_ns(seconds: float) -> int:
    """Seconds (float) to integer nanoseconds, rounded to the nearest nanosecond.

    Raises:
        TypeError: ``seconds`` is not a real number.
        ValueError: ``seconds`` is NaN or infinite, or its nanoseconds do not fit in int64.
    """
    if isinstance(seconds, bool | np.bool_) or not isinstance(
        seconds, int | float | np.integer | np.floating
    ):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__} {seconds!r}")
    # Python numbers first: NumPy scalars multiply in their own dtype (an int32 / int64
    # wraps round, a float16 overflows), and np.isfinite refuses an int past float range
    value: int | float = int(seconds) if isinstance(seconds, int | np.integer) else float(seconds)
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    ns = value * NS_PER_S
    if not INT64_MIN <= ns <= INT64_MAX:
        raise ValueError(
            f"seconds {brief_repr(seconds)} is out of the int64 nanosecond range "
            "(about +-292 years)"
        )
    return round(ns)


def ns_to_seconds(timestamp_ns: int | np.integer) -> float:
    """Integer nanoseconds to float seconds."""
    return int(timestamp_ns) / NS_PER_S


def check_timestamp_ns(value: object, *, argument: str = "timestamp_ns") -> int:
    """Validate a timestamp: an integer (Python or NumPy) within int64, returned as ``int``.

    Raises:
        TypeError: not an integer (a bool or a float is not one).
        ValueError: beyond the int64 range (the arrays of timestamps are int64).
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{argument} must be an integer number of nanoseconds, got {type(value).__name__}"
        )
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueError(f"{argument} {number} is out of the int64 nanosecond range")
    return number


def check_monotonic_ns(
    timestamps_ns: npt.ArrayLike, *, argument: str = "timestamps_ns", strict: bool = True
) -> npt.NDArray[np.int64]:
    """Validate a 1-D int64 series that increases (strictly by default).

    Returns the array as int64. Raises ``ValueError`` naming the first offending index.
    """
    arr = np.asarray(timestamps_ns)
    if arr.ndim != 1:
        raise ValueError(f"{argument} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{argument} must hold integer nanoseconds, got dtype {arr.dtype}")
    if arr.size and arr.dtype.kind == "u" and int(arr.max()) > INT64_MAX:
        big = int(np.argmax(arr > INT64_MAX))
        raise ValueError(f"{argument} index {big} is {int(arr[big])}, beyond the int64 range")
    arr = arr.astype(np.int64, copy=False)
    i = first_not_increasing(arr, strict=strict)
    if i is not None:
        raise ValueError(
            f"{argument} must increase: index {i} has {int(arr[i])} after {int(arr[i - 1])}"
        )
    return arr


def first_not_increasing(timestamps_ns: np.ndarray, *, strict: bool = True) -> int | None:
    """The index of the first of ``(N,)`` integer ns not after (``strict``; else: before) the
    previous one; None when they increase. :func:`check_monotonic_ns`'s test, for callers that
    name the offending record themselves (convert float seconds to int ns first)."""
    step = np.diff(timestamps_ns)
    bad = np.flatnonzero(step <= 0) if strict else np.flatnonzero(step < 0)
    return int(bad[0]) + 1 if bad.size else None
