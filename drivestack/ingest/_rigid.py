"""Rigid transforms stored with limited precision (float32 or ~7 printed digits)."""

from __future__ import annotations

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
) -> SE3:
    """SE3 from ``(..., 3, 4)`` or ``(..., 4, 4)`` matrices whose rotation is orthonormal only to
    ``tolerance`` (it is projected onto the nearest rotation). ``DataError`` otherwise."""
    try:
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape[-2:] not in ((3, 4), (4, 4)) or not np.all(np.isfinite(m)):
            raise ValueError(f"expected finite 3x4 or 4x4 matrices, got shape {m.shape}")
        rot = m[..., :3, :3]
        nearest = nearest_rotation(rot)
        error = float(np.max(np.abs(nearest - rot), initial=0.0))
        if error > tolerance:
            raise ValueError(
                f"rotation block is not orthonormal (an entry is {error:.3g} from the nearest "
                f"rotation; tolerance {tolerance:g})"
            )
        return SE3(nearest, m[..., :3, 3])
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise DataError(str(exc), path=path, record=record, field=field) from None
