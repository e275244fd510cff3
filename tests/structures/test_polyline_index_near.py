"""PolylineIndex.project_near: the projection on every polyline near a point, bit for bit
project_to_polyline's, found without searching the polylines' far segments."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.structures.road_map import PolylineIndex, project_to_polyline

# a coarse grid (many exactly tied segment distances: the lowest segment must win) or anywhere
_COORD = st.one_of(
    st.integers(-8, 8).map(float),
    st.floats(-50.0, 50.0, allow_nan=False).filter(lambda v: v == 0.0 or abs(v) > 1e-6),
)
_POINT = st.tuples(_COORD, _COORD)
_POLYLINE = st.lists(_POINT, min_size=2, max_size=20).filter(
    lambda p: all(a != b for a, b in itertools.pairwise(p))
)


@settings(max_examples=300, deadline=None)
@given(
    polylines=st.lists(_POLYLINE, min_size=1, max_size=4),
    points=st.lists(_POINT, min_size=1, max_size=25),
    radius=st.sampled_from([0.5, 3.0, 10.0, 40.0]),
)
def test_pairs_within_the_radius_project_exactly_as_on_the_whole_polyline(
    polylines: list[list[tuple[float, float]]], points: list[tuple[float, float]], radius: float
) -> None:
    index = PolylineIndex(polylines)
    xy = np.array(points)
    point, which, station, lateral = index.project_near(xy, radius)
    pairs = list(zip(point.tolist(), which.tolist(), strict=True))
    assert pairs == sorted(set(pairs))  # one row per pair, by point then polyline
    for p, polyline in enumerate(polylines):
        line = np.array(polyline)
        distance = shapely.distance(shapely.points(xy), shapely.linestrings(line))
        want_s, want_d = project_to_polyline(line, xy)
        mine = which == p
        # every point within the radius (up to rounding) is listed, none beyond it
        near = set(point[mine].tolist())
        assert {int(q) for q in np.flatnonzero(distance <= radius * (1 - 1e-9))} <= near
        assert near <= {int(q) for q in np.flatnonzero(distance <= radius * (1 + 1e-9))}
        np.testing.assert_array_equal(station[mine], want_s[point[mine]])
        np.testing.assert_array_equal(lateral[mine], want_d[point[mine]])


def test_hand_computed_pairs() -> None:
    """An L (corner at (10, 0)) and a far line: a point beyond the corner ties both segments
    (the first wins: station 10; lateral its distance from the corner, on the right); far
    polylines are left out."""
    index = PolylineIndex([[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]], [[0.0, 100.0], [5.0, 100.0]]])
    point, which, station, lateral = index.project_near([[12.0, -1.0], [2.0, 1.0]], 5.0)
    assert point.tolist() == [0, 1] and which.tolist() == [0, 0]
    np.testing.assert_allclose(station, [10.0, 2.0])
    np.testing.assert_allclose(lateral, [-np.sqrt(5.0), 1.0])  # (the line alone said -1)
    assert index.project_near([[2.0, 98.0]], 1.0)[0].size == 0  # 2 m from the far line
    with pytest.raises(ValueError, match="radius_m"):
        index.project_near([[0.0, 0.0]], 0.0)


def test_lateral_is_the_signed_distance_also_outside_a_joint() -> None:
    # outside a bend the closest point is the joint's vertex: lateral read the offset across
    # one segment's line (-0.01 for a point 1 m off the polyline)
    line = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [3.0, 1.0]])
    rng = np.random.default_rng(4)
    pts = rng.uniform([-0.5, -2.0], [3.5, 3.0], (4000, 2))
    station, lateral = project_to_polyline(line, pts)
    distance = shapely.distance(shapely.points(pts), shapely.linestrings(line))
    inside = (station >= 0.0) & (station <= 4.0)  # (outside: the end segments extrapolate)
    np.testing.assert_allclose(np.abs(lateral[inside]), distance[inside], atol=1e-12)
    assert project_to_polyline(line[:3], [2.0, -0.01])[1][0] == pytest.approx(-1.00005, abs=1e-5)
    assert project_to_polyline(line[:3], [2.0, 0.0])[1][0] == -1.0  # on the first's extension
    index = PolylineIndex([line])
    s2, l2 = index.project(pts)
    np.testing.assert_array_equal(s2, station)
    np.testing.assert_array_equal(l2, lateral)


def test_lateral_matches_shapely_and_the_routes_agree_on_sharp_bends_and_reversals() -> None:
    # past a bend sharper than 90 degrees the side came from one segment's line (the sign
    # flipped at 1 m from the polyline), beyond a reversal it was 0 for a point 1 m away,
    # and the compiled route gave -0.0 where the others gave 0.0
    rng = np.random.default_rng(11)
    for k in range(60):
        n = int(rng.integers(3, 7))
        steps = rng.normal(size=(n - 1, 2))
        if k % 3 == 0:
            steps[1] = -steps[0] * rng.uniform(0.5, 2.0)  # a reversal
        line = np.vstack([[0.0, 0.0], np.cumsum(steps, axis=0)])
        pts = rng.uniform(line.min(0) - 2.0, line.max(0) + 2.0, (300, 2))
        pts = np.vstack(
            [pts, line[1:-1], line[1:-1] + (line[1:-1] - line[:-2])]
        )  # vertices, extensions
        station, lateral = project_to_polyline(line, pts)
        index = PolylineIndex([line])
        s2, l2 = index.project(pts)
        _, _, s3, l3 = index.project_near(pts, 1e6)
        for other_s, other_l in ((s2, l2), (s3, l3)):
            np.testing.assert_array_equal(other_s, station)
            np.testing.assert_array_equal(other_l, lateral)
            assert np.array_equal(np.signbit(other_l), np.signbit(lateral))
        length = float(np.linalg.norm(np.diff(line, axis=0), axis=1).sum())
        inside = (station > 0.0) & (station < length)
        distance = shapely.distance(shapely.points(pts), shapely.linestrings(line))
        np.testing.assert_allclose(np.abs(lateral[inside]), distance[inside], atol=1e-9)


def test_outside_a_bend_sharper_than_90_degrees_stays_on_one_side() -> None:
    c = np.sqrt(0.5)
    line = np.array([[0.0, 0.0], [1.0, 0.0], [1.0 - c, c]])  # a 135 degree left turn
    ys = np.linspace(-0.5, 0.9, 57)
    pts = np.stack([np.full_like(ys, 2.0), ys], axis=1)  # beyond the joint, outside the turn
    lateral = project_to_polyline(line, pts)[1]
    assert np.all(lateral < 0.0)  # right of the path (the sign flipped across y = 0)
    np.testing.assert_allclose(-lateral, np.hypot(1.0, ys), atol=1e-12)
