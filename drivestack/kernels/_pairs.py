"""Candidate pairs for sparse pairwise kernels: boxes whose BEV bounding circles meet."""

from __future__ import annotations

from typing import Any


def bounding_radius(xp: Any, boxes: Any) -> Any:
    """``(N,)`` radius of the BEV bounding circle of ``boxes (N, 7)``."""
    return 0.5 * xp.sqrt(boxes[:, 3] * boxes[:, 3] + boxes[:, 4] * boxes[:, 4])


def circle_candidate_pairs(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """Index arrays ``(ia, ib)`` of the pairs whose bounding circles touch or overlap."""
    reach = bounding_radius(xp, a)[:, None] + bounding_radius(xp, b)[None, :]
    dx = a[:, 0][:, None] - b[:, 0][None, :]
    dy = a[:, 1][:, None] - b[:, 1][None, :]
    near = dx * dx + dy * dy <= reach * reach * (1.0 + 1e-12)
    ia, ib = xp.nonzero(near)
    return ia, ib
