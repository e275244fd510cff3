"""Pairwise centre distances."""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.core.arrays import check_array
from drivestack.kernels._common import check_pair


def center_distances(a: Any, b: Any) -> Any:
    """Euclidean distances ``(N, M)`` between points ``a (N, D)`` and ``b (M, D)``.

    Pass box centres (``boxes[:, :2]`` for BEV, ``boxes[:, :3]`` for 3D). Same library and
    dtype for both; output keeps them.
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
    ):
        # plain float64 NumPy (a tracker's few tracks x detections): the checks below pass, so
        # skip their per-call cost; same arithmetic, same values
        diff = a[:, None, :] - b[None, :, :]
        return np.sqrt(np.sum(diff * diff, axis=2))
    check_array(a, "a", (None, "D"))
    check_array(b, "b", ("M", a.shape[1]))
    xp = check_pair(a, "a", b, "b")
    diff = a[:, None, :] - b[None, :, :]
    return xp.sqrt(xp.sum(diff * diff, axis=2))
