"""Rigid transforms stored with limited precision (float32 or ~7 printed digits)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3, nearest_rotation


def rigid_from_matrix(
    matrix: npt.ArrayLike,
    *,
    path: str | None = None,
    record: str | None = None,
    field: str | None = None,
    tolerance: float = 1e-4,
    batch_records: Sequence[str] | None = None,
) -> SE3:
    """SE3 from ``(..., 3, 4)`` or ``(..., 4, 4)`` matrices whose rotation is orthonormal only to
    ``tolerance`` (it is projected onto the nearest rotation) and whose 4x4 last row is
    ``[0, 0, 0, 1]`` to ``tolerance``. ``DataError`` otherwise.

    ``batch_records``: for an ``(N, 3|4, 4)`` batch read from N records (e.g. ``"line 7"``),
    one name per matrix; the error then names the first bad matrix's record instead of
    ``record``.
    """
    try:
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape[-2:] not in ((3, 4), (4, 4)):
            raise ValueError(f"expected 3x4 or 4x4 matrices, got shape {m.shape}")
        bad = np.asarray(~np.isfinite(m).all(axis=(-2, -1)))
        if bad.any():
            record = _first_record(bad, batch_records, record)
            raise ValueError("NaN or infinite value in the matrix")
        if m.shape[-2:] == (4, 4):  # a homogeneous matrix: its last row is [0, 0, 0, 1]
            row_errors = np.max(np.abs(m[..., 3, :] - [0.0, 0.0, 0.0, 1.0]), axis=-1)
            if np.any(row_errors > tolerance):
                record = _first_record(row_errors > tolerance, batch_records, record)
                raise ValueError(
                    f"last row of a 4x4 rigid transform is not [0, 0, 0, 1] (an entry is "
                    f"{float(row_errors.max()):.3g} off; tolerance {tolerance:g})"
                )
        rot = m[..., :3, :3]
        nearest = nearest_rotation(rot)
        errors = np.max(np.abs(nearest - rot), axis=(-2, -1), initial=0.0)
        if np.any(errors > tolerance):
            record = _first_record(errors > tolerance, batch_records, record)
            raise ValueError(
                f"rotation block is not orthonormal (an entry is {float(errors.max()):.3g} from "
                f"the nearest rotation; tolerance {tolerance:g})"
            )
        return SE3(nearest, m[..., :3, 3])
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise DataError(str(exc), path=path, record=record, field=field) from None


def _first_record(
    bad: np.ndarray, batch_records: Sequence[str] | None, record: str | None
) -> str | None:
    """The name of the first ``True`` of a ``(N,)`` ``bad`` mask in ``batch_records``
    (``record`` when there are none or ``bad`` is not one flag per record)."""
    if batch_records is None or bad.shape != (len(batch_records),):
        return record
    return batch_records[int(np.flatnonzero(bad)[0])]
