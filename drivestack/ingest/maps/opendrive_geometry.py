"""OpenDRIVE reference-line geometry: plan-view records evaluated at road stations.

A road's reference line is a chain of plan-view records, each starting at station ``s_m`` at
``(x_m, y_m)`` with heading ``hdg_rad`` and running ``length_m`` metres:

- ``line``: straight;
- ``arc``: constant ``curvature`` (1/m, positive turns left);
- ``spiral``: a clothoid, curvature linear in station from ``curvStart`` to ``curvEnd``;
- ``poly3``: ``v = a + b u + c u^2 + d u^3`` in the record's local frame (origin at the
  record's ``(x, y)``, u along ``hdg``, v to its left), with ``u`` found so that the arc length
  along the curve is the station offset;
- ``paramPoly3``: ``u(p)``, ``v(p)`` cubics in the local frame, ``p`` running over
  ``[0, length]`` (``pRange="arcLength"``) or ``[0, 1]`` (``"normalized"``) linearly in
  station, as the standard's reference implementations evaluate it.

Clothoids and poly3 curves have no elementary closed form; they are integrated numerically on a
grid of at most :data:`INTEGRATION_STEP_M` (the position error is a few micrometres for the
curvatures of real roads). Lateral offsets ``t`` (positive left of the reference line) give
lane borders: :func:`offset_points`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Grid spacing for the numerically integrated records (clothoids, poly3).
INTEGRATION_STEP_M = 0.05

KINDS = ("line", "arc", "spiral", "poly3", "paramPoly3")


@dataclass(frozen=True)
class PlanViewRecord:
    """One ``<geometry>`` record: where it starts, how long it runs, its shape parameters.

    ``params`` by ``kind``: ``line`` none; ``arc`` ``(curvature,)``; ``spiral``
    ``(curvStart, curvEnd)``; ``poly3`` ``(a, b, c, d)``; ``paramPoly3``
    ``(aU, bU, cU, dU, aV, bV, cV, dV, p_end)`` with ``p_end`` = ``length_m`` for
    ``pRange="arcLength"`` and 1 for ``"normalized"``.
    """

    kind: str
    s_m: float
    x_m: float
    y_m: float
    hdg_rad: float
    length_m: float
    params: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown plan-view record kind {self.kind!r}; expected {KINDS}")
        if not self.length_m > 0.0:
            raise ValueError(f"a plan-view record needs a positive length, got {self.length_m}")

    def local_pose(self, ds_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(N,)`` offsets from the record's start (``0 <= ds <= length``) -> local
        ``u_m (N,)``, ``v_m (N,)`` (start at the origin, heading along +u) and the heading
        ``(N,)`` relative to ``hdg_rad``."""
        ds = np.asarray(ds_m, dtype=np.float64)
        if self.kind == "line":
            return ds, np.zeros_like(ds), np.zeros_like(ds)
        if self.kind == "arc":
            return _arc(ds, self.params[0])
        if self.kind == "spiral":
            start, end = self.params
            rate = (end - start) / self.length_m
            return _integrate_heading(ds, self.length_m, lambda s: start * s + 0.5 * rate * s * s)
        if self.kind == "poly3":
            return _poly3(ds, self.length_m, self.params)
        return _param_poly3(ds, self.length_m, self.params)


def _arc(ds: np.ndarray, curvature: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    heading = curvature * ds
    if abs(curvature) < 1e-12:
        return ds, np.zeros_like(ds), heading
    return np.sin(heading) / curvature, (1.0 - np.cos(heading)) / curvature, heading


def _grid(length_m: float) -> np.ndarray:
    return np.linspace(0.0, length_m, max(2, math.ceil(length_m / INTEGRATION_STEP_M) + 1))


def _integrate_heading(
    ds: np.ndarray, length_m: float, heading_at: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Position along a curve of unit speed whose heading is ``heading_at(station)``
    (midpoint rule on :func:`_grid`, linear between grid points)."""
    grid = _grid(length_m)
    mid_heading = heading_at(0.5 * (grid[1:] + grid[:-1]))
    step = np.diff(grid)
    u = np.concatenate([[0.0], np.cumsum(step * np.cos(mid_heading))])
    v = np.concatenate([[0.0], np.cumsum(step * np.sin(mid_heading))])
    return np.interp(ds, grid, u), np.interp(ds, grid, v), heading_at(ds)


def _poly3(
    ds: np.ndarray, length_m: float, coeffs: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b, c, d = coeffs
    # arc length grows at least as fast as u, so u stays within [0, length]
    u_grid = _grid(length_m)
    slope = b + 2.0 * c * u_grid + 3.0 * d * u_grid**2
    speed = np.hypot(1.0, slope)
    arc = np.concatenate([[0.0], np.cumsum(np.diff(u_grid) * 0.5 * (speed[1:] + speed[:-1]))])
    u = np.interp(ds, arc, u_grid)
    v = a + b * u + c * u**2 + d * u**3
    return u, v, np.arctan(b + 2.0 * c * u + 3.0 * d * u**2)


def _param_poly3(
    ds: np.ndarray, length_m: float, coeffs: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    au, bu, cu, du, av, bv, cv, dv, p_end = coeffs
    p = ds * (p_end / length_m)
    u = au + bu * p + cu * p**2 + du * p**3
    v = av + bv * p + cv * p**2 + dv * p**3
    heading = np.arctan2(bv + 2.0 * cv * p + 3.0 * dv * p**2, bu + 2.0 * cu * p + 3.0 * du * p**2)
    return u, v, heading


def reference_line(
    records: list[PlanViewRecord], s_m: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N,)`` road stations -> ``x_m (N,)``, ``y_m (N,)``, ``hdg_rad (N,)`` on the reference
    line. ``records`` are sorted by ``s_m``; a station belongs to the last record starting at or
    before it (clamped to that record's length, so a station past the road's end stays on it).
    """
    s = np.asarray(s_m, dtype=np.float64).reshape(-1)
    starts = np.array([r.s_m for r in records])
    which = np.clip(np.searchsorted(starts, s, side="right") - 1, 0, len(records) - 1)
    x = np.empty_like(s)
    y = np.empty_like(s)
    hdg = np.empty_like(s)
    for i in np.unique(which):
        rec = records[int(i)]
        rows = which == i
        ds = np.clip(s[rows] - rec.s_m, 0.0, rec.length_m)
        u, v, turn = rec.local_pose(ds)
        cos_h, sin_h = math.cos(rec.hdg_rad), math.sin(rec.hdg_rad)
        x[rows] = rec.x_m + cos_h * u - sin_h * v
        y[rows] = rec.y_m + sin_h * u + cos_h * v
        hdg[rows] = rec.hdg_rad + turn
    return x, y, hdg


def offset_points(
    x_m: np.ndarray, y_m: np.ndarray, hdg_rad: np.ndarray, t_m: np.ndarray
) -> np.ndarray:
    """Points ``t_m (N,)`` to the left of the reference-line poses -> ``(N, 2)``."""
    return np.stack([x_m - t_m * np.sin(hdg_rad), y_m + t_m * np.cos(hdg_rad)], axis=1)


def cubic(coeffs: np.ndarray, ds_m: np.ndarray) -> np.ndarray:
    """``(N, 4)`` cubic coefficients ``a, b, c, d`` per row at ``(N,)`` offsets -> ``(N,)``."""
    return coeffs[:, 0] + ds_m * (coeffs[:, 1] + ds_m * (coeffs[:, 2] + ds_m * coeffs[:, 3]))


def piecewise_cubic(starts_m: np.ndarray, coeffs: np.ndarray, s_m: np.ndarray) -> np.ndarray:
    """A piecewise cubic (``(K,)`` sorted record starts, ``(K, 4)`` coefficients, each record in
    force from its start to the next) at ``(N,)`` stations -> ``(N,)``; stations before the
    first record use it too; 0 everywhere when ``K == 0``."""
    if len(starts_m) == 0:
        return np.full(len(s_m), 0.0)
    which = np.clip(np.searchsorted(starts_m, s_m, side="right") - 1, 0, len(starts_m) - 1)
    return cubic(coeffs[which], s_m - starts_m[which])
