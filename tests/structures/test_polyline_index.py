"""PolylineIndex: the same Frenet projection as project_to_polyline, bit for bit, batched."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.structures.road_map import (
    PolylineIndex,
    interpolate_polyline,
    project_to_polyline,
)

# coordinates on a coarse grid (many exactly tied segment distances) or anywhere (not so
# tiny that a segment's squared length underflows to 0)
_COORD = st.one_of(
    st.integers(-6, 6).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False).filter(
        lambda v: v == 0.0 or abs(v) > 1e-6
    ),
)
_POINT = st.tuples(_COORD, _COORD)


def _no_repeats(points: list[tuple[float, float]]) -> bool:
    return all(a != b for a, b in itertools.pairwise(points))


_POLYLINE = st.lists(_POINT, min_size=2, max_size=25).filter(_no_repeats)


@settings(max_examples=300, deadline=None)
@given(
    polylines=st.lists(_POLYLINE, min_size=1, max_size=4),
    points=st.lists(st.tuples(_POINT, st.integers(0, 3)), min_size=1, max_size=30),
)
def test_projection_equals_project_to_polyline_exactly(
    polylines: list[list[tuple[float, float]]], points: list[tuple[tuple[float, float], int]]
) -> None:
    index = PolylineIndex(polylines)
    xy = np.array([p for p, _ in points])
    which = np.array([w % len(polylines) for _, w in points])
    station, lateral = index.project(xy, which)
    for p, polyline in enumerate(polylines):
        mine = which == p
        want_s, want_d = project_to_polyline(np.array(polyline), xy[mine])
        np.testing.assert_array_equal(station[mine], want_s)
        np.testing.assert_array_equal(lateral[mine], want_d)
        # back along the polyline: points and headings as interpolate_polyline's
        stations = np.r_[want_s, -1.0, 0.0, index.stations_m[p], index.stations_m[p][-1] + 1.0]
        want_xy, want_yaw = interpolate_polyline(np.array(polyline), stations)
        got_xy, got_yaw = index.interpolate(stations, p)
        np.testing.assert_array_equal(got_xy, want_xy)
        np.testing.assert_array_equal(got_yaw, want_yaw)
        assert index.heading_at(float(stations[0]), p) == want_yaw[0]


def test_hand_computed_projection_and_ties() -> None:
    line = [[0.0, 0.0], [4.0, 0.0], [10.0, 0.0]]
    vee = [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]
    index = PolylineIndex([line, vee])
    s, d = index.project([[3.0, 2.0], [7.5, -1.0], [-2.0, 1.0], [12.0, 0.5]])  # polyline 0
    np.testing.assert_allclose(s, [3.0, 7.5, -2.0, 12.0])  # extrapolated at both ends
    np.testing.assert_allclose(d, [2.0, -1.0, 1.0, 0.5])
    # (1, 0) is as close to both segments of the vee: the first one wins, right of it
    s, d = index.project([[1.0, 0.0]], 1)
    np.testing.assert_allclose(s, [math.sqrt(0.5)])
    np.testing.assert_allclose(d, [-math.sqrt(0.5)])
    assert index.heading_at(0.5, 1) == pytest.approx(math.pi / 4)
    assert index.heading_at(2.0, 1) == pytest.approx(-math.pi / 4)
    xy, yaw = index.interpolate([-1.0, 7.0, 11.0, math.sqrt(2.0)], [0, 0, 0, 1])
    np.testing.assert_allclose(xy, [[-1.0, 0.0], [7.0, 0.0], [11.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(yaw, [0.0, 0.0, 0.0, -math.pi / 4])  # a vertex: the next segment
    empty_s, empty_d = index.project(np.zeros((0, 2)), 1)
    assert empty_s.shape == empty_d.shape == (0,)


@pytest.mark.parametrize(
    ("polylines", "message"),
    [
        ([], "empty"),
        ([[[0.0, 0.0]]], r"polylines_m\[0\] must be an \(N>=2, 2\) polyline"),
        ([[[0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [np.nan, 1.0]]], r"polylines_m\[1\].*NaN"),
        ([[[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]]], r"polylines_m\[0\] has a segment of zero"),
    ],
)
def test_bad_polylines_are_rejected(polylines: list[list[list[float]]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolylineIndex(polylines)


def test_bad_queries_are_rejected() -> None:
    index = PolylineIndex([[[0.0, 0.0], [1.0, 0.0]]])
    with pytest.raises(ValueError, match=r"points_m must be finite, got \[nan, 0.0\] at row 0"):
        index.project([[np.nan, 0.0]])
    with pytest.raises(ValueError, match=r"polyline indices must be in \[0, 1\)"):
        index.project([[0.0, 0.0]], 1)
