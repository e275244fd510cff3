"""Validation helpers for the frozen structure-of-arrays types."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, SupportsFloat, cast

import numpy as np
import numpy.typing as npt

from drivestack.core.arrays import read_only, shape_text
from drivestack.core.frames import check_frame
from drivestack.core.time import check_timestamp_ns
from drivestack.structures.labels import ObjectClass

_MIN_LABEL = min(int(c) for c in ObjectClass)
_MAX_LABEL = max(int(c) for c in ObjectClass)
assert len(ObjectClass) == _MAX_LABEL - _MIN_LABEL + 1, "ObjectClass values must be contiguous"


def _all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()``, exactly, but cheaper on the small arrays stages pass around.

    Small arrays: a finite sum proves every element finite (a NaN or an infinity makes the sum
    NaN or infinite); only a non-finite sum (a bad value, or an overflow of large finite values)
    takes the exact element-wise test. Large narrow strided views (a field of a structured
    buffer) are tested one column at a time, ~20x faster than one pass over the view.
    """
    if arr.size <= 4096:
        if math.isfinite(np.add.reduce(arr, axis=None)):
            return True
        return bool(np.isfinite(arr).all())
    if arr.ndim == 2 and arr.shape[1] <= 8 and not arr.flags.c_contiguous:
        return all(bool(np.isfinite(arr[:, j]).all()) for j in range(arr.shape[1]))
    return bool(np.isfinite(arr).all())


def frozen_array(
    owner: Any,
    name: str,
    shape: Sequence[int | None],
    *,
    dtype: npt.DTypeLike | None = None,
    kinds: str = "f",
    finite: bool = True,
    default_dtype: npt.DTypeLike = np.float64,
    rows_of: str | None = None,
) -> np.ndarray:
    """Coerce ``owner.name`` to a read-only NumPy array of ``shape`` and set it back.

    ``None`` in ``shape`` matches any size; a 0-size input with the wrong number of
    dimensions is reshaped (so ``[]`` is a valid empty field). ``dtype`` forces a dtype;
    otherwise floating input keeps its dtype and other input becomes ``default_dtype``.
    The caller's writeable memory is never frozen nor aliased
    (:func:`~drivestack.core.arrays.read_only`: a copy; a read-only input, e.g. another
    structure's field, is handed over and kept).
    ``rows_of``: the field whose row count ``shape[0]`` is; a row-count mismatch then names
    both fields and their row counts. Raises ``ValueError`` naming the type and field.
    """
    where = f"{type(owner).__name__}.{name}"
    value = getattr(owner, name)
    arr = value if type(value) is np.ndarray else as_array(value, where, shape)
    if arr.size == 0 and arr.ndim != len(shape):
        arr = arr.reshape([0 if s is None else s for s in shape])
    if dtype is not None:
        target = np.dtype(dtype)
        if (
            arr.size
            and arr.dtype.kind not in kinds
            and not (arr.dtype.kind in "iub" and target.kind in "fiu")
        ):
            raise ValueError(f"{where} must have dtype kind {kinds!r}, got {arr.dtype}")
        if arr.size and arr.dtype.kind == "u" and target.kind == "i" and arr.dtype.itemsize >= 8:
            high = int(np.iinfo(target).max)
            if int(arr.max()) > high:  # the cast would wrap to a negative number
                bad = np.argwhere(arr > high)[0]
                raise ValueError(
                    f"{where} holds {int(arr[tuple(bad)])} (at index "
                    f"{tuple(int(i) for i in bad)}), beyond the {target} range"
                )
        arr = arr.astype(target, copy=False)
    elif arr.dtype.kind not in kinds:
        if arr.size and arr.dtype.kind not in "iub":
            raise ValueError(f"{where} must have dtype kind {kinds!r}, got {arr.dtype}")
        arr = arr.astype(default_dtype, copy=False)
    if arr.ndim != len(shape) or _shape_differs(shape, arr.shape):  # check_shape, inlined
        if (
            rows_of is not None
            and arr.ndim == len(shape)
            and not _shape_differs(shape[1:], arr.shape[1:])
        ):
            raise ValueError(
                f"{_shape_error(where, shape, arr.shape)}: {where} has {arr.shape[0]} rows but "
                f"{type(owner).__name__}.{rows_of} has {shape[0]} (one row per element in each "
                "field)"
            )
        raise _shape_error(where, shape, arr.shape)
    if finite and arr.dtype.kind == "f" and arr.size and not _all_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(
            f"{where} contains NaN or infinite values (first at index {tuple(int(i) for i in bad)})"
        )
    arr = read_only(arr, value)
    object.__setattr__(owner, name, arr)
    return arr


def as_array(
    value: Any,
    where: str,
    shape: Sequence[int | None],
    dtype: npt.DTypeLike | None = None,
) -> np.ndarray:
    """``np.asarray(value, dtype)``; ``ValueError`` naming ``where`` and the expected
    ``shape`` when NumPy cannot make one array of it (ragged nesting, text for numbers)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError, RuntimeError) as exc:  # (torch: a tensor needing grad)
        raise ValueError(
            f"{where} must be a numeric array of shape {shape_text(shape)}, "
            f"got a {type(value).__name__} NumPy cannot convert: {exc}"
        ) from None


def check_shape(arr: np.ndarray, where: str, shape: Sequence[int | None]) -> np.ndarray:
    """``arr`` unchanged if it has ``shape`` (``None`` matches any size), else ``ValueError``
    naming ``where``, the expected and the given shape."""
    if arr.ndim != len(shape) or _shape_differs(shape, arr.shape):
        raise _shape_error(where, shape, arr.shape)
    return arr


def _shape_error(where: str, want: Sequence[int | None], got: tuple[int, ...]) -> ValueError:
    return ValueError(f"{where} must have shape {shape_text(want)}, got {got}")


def _shape_differs(want: Sequence[int | None], got: tuple[int, ...]) -> bool:
    # a plain loop: ~2x cheaper than any() over a generator, and this runs per field
    for e, a in zip(want, got, strict=True):  # noqa: SIM110
        if e is not None and e != a:
            return True
    return False


def check_class_labels(label: np.ndarray, where: str) -> None:
    """Refuse integer ``label`` values that are not :class:`ObjectClass` values with a
    ``ValueError`` naming ``where`` (e.g. ``"Boxes3D.label"``) and the first bad row."""
    if label.size and (int(label.min()) < _MIN_LABEL or int(label.max()) > _MAX_LABEL):
        bad = int(np.flatnonzero((label < _MIN_LABEL) | (label > _MAX_LABEL))[0])
        raise ValueError(
            f"{where} must hold ObjectClass values {_MIN_LABEL}..{_MAX_LABEL} "
            f"(UNKNOWN = {int(ObjectClass.UNKNOWN)} for other classes), got "
            f"{int(label[bad])} at row {bad}"
        )


def check_length(owner: Any, n: int, names: Sequence[str]) -> None:
    """All named fields must have ``n`` rows."""
    for name in names:
        length = len(getattr(owner, name))
        if length != n:
            raise ValueError(f"{type(owner).__name__}.{name} has {length} rows, expected {n}")


def check_frame_and_time(owner: Any) -> None:
    check_frame(owner.frame, argument=f"{type(owner).__name__}.frame")
    object.__setattr__(
        owner,
        "timestamp_ns",
        check_timestamp_ns(owner.timestamp_ns, argument=f"{type(owner).__name__}.timestamp_ns"),
    )


def as_index(selection: npt.ArrayLike | slice, n: int, where: str) -> np.ndarray:
    """A boolean mask of length ``n``, integer indices (``-n <= i < n``) or a slice, as
    integer indices; ``IndexError`` naming ``where`` and ``n`` for an index out of range."""
    if isinstance(selection, slice):
        return np.arange(n, dtype=np.int64)[selection]
    sel = as_array(selection, f"{where} selection", (None,))
    if sel.dtype == bool:
        if sel.shape != (n,):
            raise ValueError(f"{where}: boolean mask must have shape ({n},), got {sel.shape}")
        return np.flatnonzero(sel)
    if sel.size == 0:
        return np.zeros(0, dtype=np.int64)
    if sel.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: selection must be a boolean mask or integer indices, got {sel.dtype}"
        )
    idx = sel.astype(np.int64, copy=False).reshape(-1)
    low, high = int(idx.min()), int(idx.max())
    if low < -n or high >= n:
        bad = low if low < -n else high
        raise IndexError(f"{where}: index {bad} is out of range for {n} rows")
    return idx


def adopt_read_only(obj: object, **arrays: np.ndarray) -> None:
    """Set each array as a field of the frozen dataclass ``obj``, made read-only in place
    (no copy: the caller hands the arrays over; for validation-free internal constructors)."""
    for name, value in arrays.items():
        value.setflags(write=False)
        object.__setattr__(obj, name, value)


_BOUNDS = ((">", operator.gt), (">=", operator.ge), ("<", operator.lt), ("<=", operator.le))


def check_number(
    where: str,
    value: Any,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
    integer: bool = False,
) -> None:
    """Refuse ``value`` unless it is a finite real number (an int when ``integer``) within the
    given bounds; the errors name ``where`` (e.g. ``"VehicleParams.wheelbase_m"``).

    Raises:
        TypeError: ``value`` is not a number (a bool or a string is not one), or is not an
            int when ``integer``.
        ValueError: ``value`` is NaN, infinite or outside the bounds.
    """
    # fast path for a plain int / float (or NumPy float64) that passes; anything else (bool,
    # other NumPy scalars, a failing value) takes the checks below, which give the errors
    kind = type(value)
    if kind is int or ((kind is float or kind is np.float64) and not integer):
        number = float(value)
        if (
            math.isfinite(number)
            and (above is None or number > above)
            and (at_least is None or number >= at_least)
            and (below is None or number < below)
            and (at_most is None or number <= at_most)
        ):
            return
    kinds: tuple[type, ...] = (
        (int, np.integer) if integer else (int, float, np.integer, np.floating)
    )
    what = "an integer" if integer else "a finite number"
    if isinstance(value, bool | np.bool_) or not isinstance(value, kinds):
        raise TypeError(f"{where} must be {what}, got {type(value).__name__} {value!r}")
    limits = [
        (sym, ok, b)
        for (sym, ok), b in zip(_BOUNDS, (above, at_least, below, at_most), strict=True)
        if b is not None
    ]
    number = float(cast(SupportsFloat, value))  # a real number: checked above
    if not math.isfinite(number) or not all(ok(number, b) for _, ok, b in limits):
        wanted = "".join(
            f" {'and ' if i else ''}{sym} {b:g}" for i, (sym, _, b) in enumerate(limits)
        )
        raise ValueError(f"{where} must be {what}{wanted}, got {value!r}")


def check_number_fields(owner: Any, names: Sequence[str], **bounds: Any) -> None:
    """:func:`check_number` on each field ``names`` of the dataclass ``owner`` (errors name
    ``Type.field``)."""
    for name in names:
        check_number(f"{type(owner).__name__}.{name}", getattr(owner, name), **bounds)


#: Within this (rotation entries, metres) a transform into the frame its input is already in
#: counts as the identity (float32 round trips).
SAME_FRAME_ATOL = 1e-5


def check_move_into(owner: Any, dst_from_src: Any, dst_frame: str) -> None:
    """``ValueError`` when ``owner`` (a structure with a ``frame``) is already in
    ``dst_frame`` and ``dst_from_src`` (an :class:`~drivestack.core.transforms.SE3`) is not
    the identity: a transform applied twice, or a wrong ``dst_frame``."""
    from drivestack.core.transforms import SE3

    if dst_frame != owner.frame or dst_from_src.allclose(SE3.identity(), SAME_FRAME_ATOL):
        return
    deviation = max(
        float(np.max(np.abs(dst_from_src.rotation - np.eye(3)))),
        float(np.max(np.abs(dst_from_src.translation))),
    )
    kind = type(owner).__name__
    noun = {"Boxes3D": "boxes", "PointCloud": "points"}.get(kind, kind)
    raise ValueError(
        f"{kind}.transformed: the {noun} are already in frame {dst_frame!r}, and dst_from_src "
        f"is not the identity (largest deviation {deviation:.3g}; translation "
        f"{np.array2string(dst_from_src.translation, precision=6)} m, yaw "
        f"{float(dst_from_src.yaw_rad):.6f} rad): name the frame the transform maps into "
        f"(dst_frame), or check that the {noun} are in its source frame (a transform applied "
        "twice?)"
    )


def parts_of(parts: Any, kind: type, where: str) -> list[Any]:
    """``parts`` (any iterable) as a list of ``kind``; ``TypeError`` naming the first other
    item's index, ``ValueError`` when there is none."""
    items = list(parts)
    if not items:
        raise ValueError(f"{where} needs at least one {kind.__name__}")
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise TypeError(f"{where}: item {i} is a {type(item).__name__}, not a {kind.__name__}")
    return items
