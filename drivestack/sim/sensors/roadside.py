"""Roadside geometry of a map for the sensor scene: curbs, poles and buildings.

Everything is placed from the drivable area's boundary: curbs along it, and poles and
buildings on its outward side, offset along the boundary's local outward normal (not away
from the area's centroid, which for a long straight road points along the road and puts
"roadside" objects on the carriageway). A pole or building whose footprint would come closer
than its clearance to any drivable surface (another road at a junction, the far carriageway)
is left out, so no static object ever stands on the road.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import shapely

#: (x, y, z, length, width, height, yaw) of one static cuboid, world frame, centre at mid height
Box7 = tuple[float, float, float, float, float, float, float]


def boundary_lines(area: shapely.Geometry) -> Iterator[np.ndarray]:
    """``(P, 2)`` vertex arrays of every ring of a Polygon / MultiPolygon's boundary (none for
    an empty area: a map without drivable lanes)."""
    import shapely

    boundary = area.boundary
    if boundary is None or boundary.is_empty:  # an empty GeometryCollection has no boundary
        return
    parts = shapely.get_parts(boundary) if boundary.geom_type.startswith("Multi") else [boundary]
    for line in parts:
        coords = np.asarray(line.coords, dtype=np.float64)[:, :2]
        if len(coords) >= 2:
            yield coords


def points_at(line: np.ndarray, s_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(S, 2)`` and unit tangents ``(S, 2)`` at arc lengths ``s_m (S,)`` along a
    polyline ``(P, 2)`` (clamped to its ends; zero-length segments are skipped)."""
    seg = np.diff(line, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    ok = seg_len > 1e-9
    seg, seg_len, start = seg[ok], seg_len[ok], line[:-1][ok]
    if not len(seg):
        return np.repeat(line[:1], len(s_m), axis=0), np.tile([1.0, 0.0], (len(s_m), 1))
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    s = np.clip(np.asarray(s_m, dtype=np.float64), 0.0, cum[-1])
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    frac = (s - cum[k]) / seg_len[k]
    return start[k] + frac[:, None] * seg[k], seg[k] / seg_len[k, None]


def polyline_length_m(line: np.ndarray) -> float:
    return float(np.sum(np.hypot(*np.diff(line, axis=0).T)))


def outward_normals(
    area: shapely.Geometry, points: np.ndarray, tangents: np.ndarray, probe_m: float = 0.25
) -> np.ndarray:
    """``(S, 2)`` unit normals of the boundary at ``points`` pointing out of ``area``: probed
    ``probe_m`` to both sides; where neither probe is strictly inside (at a corner a probe can
    land on the next edge), a probe on the boundary counts as inside."""
    import shapely

    normals = np.stack([tangents[:, 1], -tangents[:, 0]], axis=1)
    ahead = shapely.contains_xy(area, *(points + probe_m * normals).T)
    behind = shapely.contains_xy(area, *(points - probe_m * normals).T)
    unsure = ahead == behind
    ahead[unsure] = shapely.intersects_xy(area, *(points[unsure] + probe_m * normals[unsure]).T)
    normals[ahead] *= -1.0
    return normals


def roadside_objects(
    area: shapely.Geometry,
    rng: np.random.Generator,
    *,
    curb_height_m: float = 0.15,
    curb_step_m: float = 4.0,
    pole_spacing_m: float = 25.0,
    pole_offset_m: float = 1.5,
    building_probability: float = 0.3,
    building_setback_m: float = 6.0,
) -> tuple[list[Box7], list[Box7], list[Box7]]:
    """Curbs, poles and buildings (boxes) along the boundary of a drivable ``area``.

    Curbs: ``curb_step_m`` long segments centred on the boundary. Poles: every
    ``pole_spacing_m``, ``pole_offset_m`` outside the boundary. Buildings: at a pole station
    with ``building_probability``, their road-facing wall ``building_setback_m`` outside the
    boundary, aligned with it. Poles and buildings that would come within ``pole_offset_m / 2``
    (poles) or ``building_setback_m / 2`` (buildings) of any drivable surface, or buildings
    that overlap an earlier building, are dropped (the random draws are made regardless, so the
    kept objects do not depend on which others were dropped).
    """
    import shapely

    curbs: list[Box7] = []
    poles: list[Box7] = []
    buildings: list[Box7] = []
    footprints: list[shapely.Geometry] = []
    shapely.prepare(area)
    for line in boundary_lines(area):
        length_m = polyline_length_m(line)
        s_m = np.arange(0.0, length_m, curb_step_m)
        p0, _ = points_at(line, s_m)
        p1, _ = points_at(line, np.minimum(s_m + curb_step_m, length_m))
        for a, b in zip(p0, p1, strict=True):  # one curb per chord
            chord = float(np.hypot(*(b - a)))
            if chord > 1e-3:
                mid = 0.5 * (a + b)
                yaw = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
                curbs.append(
                    (
                        float(mid[0]),
                        float(mid[1]),
                        curb_height_m / 2,
                        chord,
                        0.3,
                        curb_height_m,
                        yaw,
                    )
                )
        p, t = points_at(line, np.arange(0.0, length_m, pole_spacing_m))
        n = outward_normals(area, p, t)
        for point, tangent, normal in zip(p, t, n, strict=True):
            pole = point + pole_offset_m * normal
            if shapely.distance(area, shapely.Point(pole)) >= pole_offset_m / 2:
                poles.append((float(pole[0]), float(pole[1]), 3.0, 0.25, 0.25, 6.0, 0.0))
            if rng.random() >= building_probability:
                continue
            size = rng.uniform(8.0, 20.0, 2)  # along the road, away from it
            height = float(rng.uniform(6.0, 15.0))
            centre = point + (building_setback_m + size[1] / 2) * normal
            yaw = float(np.arctan2(tangent[1], tangent[0]))
            c, s = np.cos(yaw), np.sin(yaw)
            half = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * size / 2
            corners = centre + half @ np.array([[c, s], [-s, c]])
            footprint = shapely.Polygon(corners)
            if shapely.distance(area, footprint) < building_setback_m / 2 or any(
                footprint.intersects(f) for f in footprints
            ):
                continue
            footprints.append(footprint)
            buildings.append(
                (
                    float(centre[0]),
                    float(centre[1]),
                    height / 2,
                    float(size[0]),
                    float(size[1]),
                    height,
                    yaw,
                )
            )
    return curbs, poles, buildings
