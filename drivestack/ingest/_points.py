"""Shared checks for readers that turn raw point arrays into a :class:`PointCloud`."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import FLOAT_RE, parse_float
from drivestack.structures.point_cloud import PointCloud

#: No LiDAR return is this far (m) from its sensor: larger coordinates mean the bytes were
#: decoded with the wrong layout (e.g. float16 read as float32).
PLAUSIBLE_RANGE_M = 1e4


def read_bytes(path: str | Path) -> bytes:
    """All bytes of ``path``; ``DataError`` naming the file when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror}", path=str(path)) from exc


def read_json(path: str | Path) -> Any:
    """The parsed JSON document of ``path``; ``DataError`` naming the file when it cannot be
    read, and the line (invalid JSON) or byte offset (not UTF-8/16/32 text) where it breaks."""
    raw = read_bytes(path)
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"invalid JSON: {exc.msg}", path=str(path), record=f"line {exc.lineno}"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not {exc.encoding} text: {exc.reason}", path=str(path), record=f"byte {exc.start}"
        ) from None


def check_plausible_range(xyz_m: np.ndarray, *, path: str, hint: str = "") -> None:
    """``DataError`` naming the first point of ``(N, 3)`` ``xyz_m`` with a finite coordinate
    beyond :data:`PLAUSIBLE_RANGE_M` (the file is not in the layout it was read as; ``hint``
    says which reader fits). NaN/inf are left to :func:`finite_cloud`."""
    with np.errstate(invalid="ignore"):
        if not np.any(np.abs(xyz_m) > PLAUSIBLE_RANGE_M):  # one pass for a good scan
            return
        far = np.isfinite(xyz_m) & (np.abs(xyz_m) > PLAUSIBLE_RANGE_M)
    if far.any():  # (infinities alone are finite_cloud's to report)
        first, axis = (int(v) for v in np.argwhere(far)[0])
        raise DataError(
            f"{int(far.any(axis=1).sum())} point(s) farther than {PLAUSIBLE_RANGE_M:g} m "
            f"(up to {float(np.abs(np.where(far, xyz_m, 0.0)).max()):.3g} m): the file does not "
            f"look like this format{'; ' + hint if hint else ''}",
            path=path,
            record=f"point {first}",
            field="xyz"[axis],
        )


def first_repeat(keys: Iterable[Hashable]) -> tuple[int, int] | None:
    """``(a, b)``: ``b`` the index of the first key (in order) that an earlier one repeats,
    ``a`` that earlier one's index; None when all keys differ."""
    seen: dict[Hashable, int] = {}
    for b, key in enumerate(keys):
        a = seen.setdefault(key, b)
        if a != b:
            return a, b
    return None


def parse_numbers(
    rows: Sequence[Sequence[str]], columns: Sequence[str], *, path: str, line_numbers: Sequence[int]
) -> np.ndarray:
    """``(N, len(columns))`` float64 of text ``rows`` (each ``len(columns)`` tokens, C-spelled
    numbers: :func:`parse_float`); ``DataError`` naming the file, line and field of the first
    token that is not one."""
    if not rows:
        return np.zeros((0, len(columns)))
    if all(FLOAT_RE.fullmatch(v) for row in rows for v in row):
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(columns))
    for row, line_no in zip(rows, line_numbers, strict=True):
        for value, name in zip(row, columns, strict=True):
            try:
                parse_float(value)
            except ValueError:
                raise DataError(
                    f"not a number: {value!r}", path=path, record=f"line {line_no}", field=name
                ) from None
    raise AssertionError("unreachable: a token failed the check above")  # pragma: no cover


def line_record(line_numbers: Sequence[int]) -> Callable[[int], str]:
    """The ``record`` of the checks below for rows read from the text lines ``line_numbers``:
    row ``i`` -> ``"line N"``."""
    return lambda i: f"line {line_numbers[i]}"


def check_finite(
    values: np.ndarray,
    columns: Sequence[str],
    *,
    path: str,
    record: Callable[[int], str],
    reason: str = "NaN or infinite value",
) -> None:
    """``DataError`` naming the record (``record(row)``, e.g. ``"line 7"``, ``"row 3"``) and the
    field (``columns[column]``) of the first NaN / inf in ``values (N, C)``, row by row;
    ``reason``: the message, a template given ``value`` (the bad value as float)."""
    _refuse_first(~np.isfinite(values), values, columns, path=path, record=record, reason=reason)


def check_not_negative(
    values: np.ndarray,
    columns: Sequence[str],
    *,
    path: str,
    record: Callable[[int], str],
    reason: str = "negative value {value:g}",
) -> None:
    """As :func:`check_finite`, for the first value below 0 (box sizes)."""
    _refuse_first(values < 0, values, columns, path=path, record=record, reason=reason)


def _refuse_first(
    bad: np.ndarray,
    values: np.ndarray,
    columns: Sequence[str],
    *,
    path: str,
    record: Callable[[int], str],
    reason: str,
) -> None:
    """``DataError`` for the first ``True`` of ``bad (N, C)``, row by row (see :func:`check_finite`)."""
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            reason.format(value=float(values[row, col])),
            path=path,
            record=record(row),
            field=columns[col],
        )


def check_integer_column(
    values: np.ndarray,
    minimum: np.ndarray | float | None = None,
    *,
    maximum: float | None = None,
    checked: np.ndarray | None = None,
    path: str,
    record: Callable[[int], str],
    field: str | Sequence[str],
    reason: str,
) -> None:
    """``DataError`` naming the record (``record(row)``, e.g. ``"line 7"``, ``"point 5"``) and
    the field of the first value of ``values`` (``(N,)``, or ``(N, k)`` row by row) that is not
    an integer from ``minimum`` (a scalar or ``(N,)``) to ``maximum`` (each bound optional;
    NaN and inf are not integers).

    Args:
        checked: ``(N,)`` bool, the rows to check (default all).
        field: the field, or one per column of ``(N, k)`` values.
        reason: the message, a template given ``value`` (the bad value as float) and
            ``count`` (how many values are bad).
    """
    with np.errstate(invalid="ignore"):
        bad = values != np.round(values)
        if minimum is not None:
            bad |= values < minimum
        if maximum is not None:
            bad |= values > maximum
    if checked is not None:
        bad &= checked if bad.ndim == 1 else checked[:, None]
    if not bad.any():
        return
    at = tuple(int(v) for v in np.argwhere(bad)[0])  # (row,) or (row, column)
    raise DataError(
        reason.format(value=float(values[at]), count=int(bad.sum())),
        path=path,
        record=record(at[0]),
        field=field if isinstance(field, str) else field[at[-1]],
    )


def check_finite_times(times: np.ndarray, checked: np.ndarray, *, path: str, field: str) -> None:
    """``DataError`` naming the first point (among ``checked``, ``(N,)`` bool) whose ``(N,)``
    time in ``times`` is NaN or infinite, and ``field`` (the file's name for the column)."""
    bad = ~np.isfinite(times) & checked
    if bad.any():
        raise DataError(
            f"{int(bad.sum())} point(s) with a NaN or infinite time",
            path=path,
            record=f"point {int(np.flatnonzero(bad)[0])}",
            field=field,
        )


def check_time_offsets(
    offsets_ns: np.ndarray,
    checked: np.ndarray,
    *,
    limit_ns: float,
    path: str,
    field: str,
    unit: str,
) -> None:
    """``DataError`` naming the first point (among ``checked``, ``(N,)`` bool) whose ``(N,)``
    float time offset from its frame, ``offsets_ns``, is beyond ``limit_ns`` either way: its
    time ``field`` is not in ``unit`` or not of this frame. NaN offsets are left to
    :func:`check_finite_times`."""
    with np.errstate(invalid="ignore"):
        far = np.abs(offsets_ns) > limit_ns
    if not far.any():  # one pass for a good scan
        return
    far &= checked
    if far.any():
        first = int(np.flatnonzero(far)[0])
        raise DataError(
            f"{int(far.sum())} point time(s) up to {float(np.max(np.abs(offsets_ns[far]))) / 1e9:.3g} s "
            f"from the frame time (this one {float(offsets_ns[first]) / 1e9:.3g} s; allowed "
            f"{limit_ns / 1e9:g} s): the times are not in {unit}, or not of this frame",
            path=path,
            record=f"point {first}",
            field=field,
        )


def finite_cloud(
    xyz_m: np.ndarray,
    attributes: Mapping[str, np.ndarray],
    *,
    frame: str,
    timestamp_ns: int,
    path: str,
    drop_nonfinite: bool = False,
    also_finite: Mapping[str, np.ndarray] | None = None,
) -> PointCloud:
    """Build a :class:`PointCloud` from ``(N, 3)`` coordinates and ``(N,)`` attributes.

    Non-finite coordinates, or non-finite values of the ``(N,)`` columns in ``also_finite``
    (raw per-point fields by their file name, e.g. ``{"intensity": ...}``), are a
    ``DataError`` naming the first bad point and the axis or field, unless ``drop_nonfinite``
    is set, in which case those points are removed (e.g. organised clouds that mark missing
    returns with NaN).
    """
    fields = ["x", "y", "z", *(also_finite or {})]
    columns = [xyz_m[:, 0], xyz_m[:, 1], xyz_m[:, 2], *(also_finite or {}).values()]
    if np.isfinite(xyz_m).all() and all(np.isfinite(c).all() for c in columns[3:]):
        # the usual case, one pass per array; xyz proven finite, PointCloud need not re-check
        return PointCloud.from_finite_xyz(
            np.ascontiguousarray(xyz_m), frame, timestamp_ns, dict(attributes)
        )
    finite = np.stack([np.isfinite(c) for c in columns], axis=1)
    if not finite.all():
        rows = ~finite.all(axis=1)
        if not drop_nonfinite:
            first = int(np.flatnonzero(rows)[0])
            col = int(np.flatnonzero(~finite[first])[0])
            raise DataError(
                f"{int(rows.sum())} point(s) with NaN or infinite "
                f"{'coordinates' if col < 3 else 'values'} (drop_nonfinite=True drops them when reading from Python)",
                path=path,
                record=f"point {first}",
                field=fields[col],
            )
        keep = ~rows
        xyz_m = xyz_m[keep]
        attributes = {k: v[keep] for k, v in attributes.items()}
    return PointCloud(np.ascontiguousarray(xyz_m), frame, timestamp_ns, dict(attributes))
