"""Pairwise centre distances."""

from __future__ import annotations

from typing import Any

from drivestack.core.arrays import check_array
from drivestack.kernels._common import check_pair


def center_distances(a: Any, b: Any) -> Any:
    """Euclidean distances ``(N, M)`` between points ``a (N, D)`` and ``b (M, D)``.

    Pass box centres (``boxes[:, :2]`` for BEV, ``boxes[:, :3]`` for 3D). Same library and
    dtype for both; output keeps them.
    """
    check_array(a, "a", (None, None))
    check_array(b, "b", (None, a.shape[1]))
    xp = check_pair(a, "a", b, "b")
    diff = a[:, None, :] - b[None, :, :]
    return xp.sqrt(xp.sum(diff * diff, axis=2))
