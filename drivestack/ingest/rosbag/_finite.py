"""One compiled pass over a (strided) xyz view: which points are finite, and how many are not."""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def finite_rows(xyz: np.ndarray) -> tuple[np.ndarray, int]:
    """``(mask (N,) bool, number of rows with a NaN or inf)`` for ``xyz (N, 3)`` of any strides."""
    n = xyz.shape[0]
    mask = np.empty(n, dtype=np.bool_)
    bad = 0
    for i in range(n):
        ok = math.isfinite(xyz[i, 0]) and math.isfinite(xyz[i, 1]) and math.isfinite(xyz[i, 2])
        mask[i] = ok
        if not ok:
            bad += 1
    return mask, bad
