"""Pairwise centre distances."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.core.arrays import check_array
from drivestack.kernels._common import check_magnitude, check_pair, magnitude_limit

_FLOAT64_LIMIT = magnitude_limit(np.float64)


def center_distances(a: Any, b: Any) -> Any:
    """Euclidean distances ``(N, M)`` between points ``a (N, D)`` and ``b (M, D)``.

    Pass box centres (``boxes[:, :2]`` for BEV, ``boxes[:, :3]`` for 3D). Same library and
    dtype for both; output keeps them. ``ValueError`` naming the argument for coordinates
    beyond the kernels' magnitude limit (float32: ~4.4e11 m, float64: ~3.5e101 m), whose
    squared distances would overflow.
    """
    if (
        type(a) is np.ndarray
        and type(b) is np.ndarray
        and a.dtype == np.float64
        and b.dtype == np.float64
        and a.ndim == 2
        and b.ndim == 2
        and a.shape[1] == b.shape[1]
        and bool(np.isfinite(a).all())
        and bool(np.isfinite(b).all())
        and (a.size == 0 or float(np.abs(a).max()) <= _FLOAT64_LIMIT)
        and (b.size == 0 or float(np.abs(b).max()) <= _FLOAT64_LIMIT)
    ):
        # plain float64 NumPy (a tracker's few tracks x detections): the checks below pass, so
        # skip their per-call cost; same arithmetic, same values
        diff = a[:, None, :] - b[None, :, :]
        return np.sqrt(np.sum(diff * diff, axis=2))
    check_array(a, "a", (None, "D"))
    check_array(b, "b", ("M", a.shape[1]))
    xp = check_pair(a, "a", b, "b")
    for name, array in (("a", a), ("b", b)):
        if array.shape[0] and array.shape[1]:
            check_magnitude(array, name, "coordinates")
    diff = a[:, None, :] - b[None, :, :]
    return xp.sqrt(xp.sum(diff * diff, axis=2))
