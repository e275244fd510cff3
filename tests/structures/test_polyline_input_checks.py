"""Public polyline / point queries refuse input they would misread (review finding E1): an
``(M, 3)`` point array cut into wrong (x, y) pairs, one-point or NaN polylines, a zero step,
bad speed limits; a batch SE3 applied to a mismatched point set; a repeated track id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.transforms import SE3
from drivestack.planning.reference_path import ReferencePath
from drivestack.structures import Boxes3D, Tracks
from drivestack.structures.road_map import (
    Lane,
    PolylineIndex,
    RoadMap,
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
    resample_polyline,
)
from tests._shared_data import missing_shared_data

LINE = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])
XYZ = np.array([[5.0, 1.0, 0.0], [15.0, -2.0, 0.0]])


def _straight_lane() -> Lane:
    side = np.array([0.0, 1.75])
    return Lane("a", LINE, LINE + side, LINE - side)


def test_xyz_points_are_refused_by_every_point_query() -> None:
    """Before: (2, 3) points were read as the three pairs (5, 1), (0, 15), (-2, 0)."""
    rp = ReferencePath.from_polyline(LINE, 10.0)
    lane = _straight_lane()
    queries = {
        "project_to_polyline": lambda p: project_to_polyline(LINE, p),
        "ReferencePath.project": rp.project,
        "Lane.project": lane.project,
        "RoadMap.distance_outside_drivable_m": RoadMap((lane,)).distance_outside_drivable_m,
        "PolylineIndex.project": PolylineIndex([LINE]).project,
    }
    for name, query in queries.items():
        with pytest.raises(ValueError, match=r"points_m must be \(M, 2\) points .* \(2, 3\)"):
            query(XYZ)
        with pytest.raises(ValueError, match=r"got shape \(1, 3\)"):
            query(XYZ[:1])
        with pytest.raises(ValueError, match=r"points_m must be finite, got \[nan, 1.0\] at row 1"):
            query([[5.0, 1.0], [np.nan, 1.0]])
        if name != "RoadMap.distance_outside_drivable_m":
            station, lateral = query([5.0, 1.0])  # one (2,) point
            assert station.tolist() == [5.0] and lateral.tolist() == [1.0], name
            assert len(query(np.zeros((0, 2)))[0]) == 0, name


def test_project_hand_computed_with_single_point_and_list_input() -> None:
    station, lateral = project_to_polyline(LINE.tolist(), [15.0, -2.0])
    assert station.tolist() == [15.0] and lateral.tolist() == [-2.0]
    assert RoadMap((_straight_lane(),)).distance_outside_drivable_m([5.0, 4.75]).tolist() == [3.0]


@pytest.mark.parametrize(
    ("polyline", "message"),
    [
        ([[0.0, 0.0]], r"polyline_m must be an \(N>=2, 2\) polyline, got shape \(1, 2\)"),
        (np.c_[LINE, np.zeros(3)], r"got shape \(3, 3\) \(x, y only"),
        ([[0.0, 0.0], [np.nan, 0.0], [1.0, 0.0]], r"NaN or infinite coordinates \(vertex 1"),
        ([[1.0, 1.0], [1.0, 1.0]], "fewer than 2 distinct points"),
        ([[0.0, 0.0], [1.0]], r"polyline_m must be a numeric array of shape \(N, 2\)"),
    ],
)
def test_bad_polylines_are_refused_by_every_helper(polyline: object, message: str) -> None:
    helpers = [
        lambda: project_to_polyline(polyline, [[1.0, 0.0]]),  # type: ignore[arg-type]
        lambda: interpolate_polyline(polyline, [1.0]),  # type: ignore[arg-type]
        lambda: resample_polyline(polyline, 1.0),  # type: ignore[arg-type]
        lambda: ReferencePath.from_polyline(polyline, 10.0),  # type: ignore[arg-type]
    ]
    if "distinct" not in message:  # stations keep repeated vertices (one station per row)
        helpers.append(lambda: polyline_stations(polyline))  # type: ignore[arg-type]
    for helper in helpers:
        with pytest.raises(ValueError, match=message):
            helper()


def test_stations_keep_one_row_per_vertex() -> None:
    assert polyline_stations([[0.0, 0.0], [3.0, 4.0], [3.0, 4.0]]).tolist() == [0.0, 5.0, 5.0]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (0.0, "step_m must be a finite number > 0, got 0.0"),  # before: OverflowError
        (-1.0, "step_m must be a finite number > 0, got -1.0"),  # before: 2 points silently
        (float("nan"), "step_m must be a finite number > 0, got nan"),
        (1e-300, "step_m 1e-300 cuts the 20 m polyline into more than"),
    ],
)
def test_bad_steps_are_refused(step: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resample_polyline(LINE, step)
    with pytest.raises(ValueError, match=message):
        ReferencePath.from_polyline(LINE, 10.0, step_m=step)


def test_nan_station_is_refused() -> None:
    with pytest.raises(ValueError, match="station_m must be finite, got nan at index 1"):
        interpolate_polyline(LINE, [1.0, np.nan])


@pytest.mark.parametrize(
    ("limit", "message"),
    [
        (float("nan"), "speed_limit_mps must be a finite number > 0, got nan"),
        (-5.0, "speed_limit_mps must be a finite number > 0, got -5.0"),
        ([5.0, 20.0], r"one per point, \(21,\) for the resampled points or \(3,\) for the poly"),
        ([5.0, np.nan, 6.0], r"speed_limit_mps must be finite and > 0 \(m/s\), got nan at index 1"),
        ([[5.0, 6.0, 7.0]], r"got shape \(1, 3\)"),
    ],
)
def test_bad_speed_limits_are_refused(limit: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReferencePath.from_polyline(LINE, limit)  # type: ignore[arg-type]


def test_speed_limits_per_row_and_per_point() -> None:
    per_row = ReferencePath.from_polyline(LINE, [5.0, 10.0, 20.0])
    assert per_row.speed_limit_mps[[0, 10, 15, 20]].tolist() == [5.0, 10.0, 15.0, 20.0]
    per_point = ReferencePath.from_polyline(LINE, np.arange(1.0, 22.0))
    assert per_point.speed_limit_mps.tolist() == list(np.arange(1.0, 22.0))


_COORD = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(
    vertices=st.lists(st.tuples(_COORD, _COORD), min_size=2, max_size=6, unique=True),
    repeat=st.integers(0, 5),
    points=st.lists(st.tuples(_COORD, _COORD), min_size=1, max_size=5),
)
def test_repeated_vertices_change_nothing(
    vertices: list[tuple[float, float]], repeat: int, points: list[tuple[float, float]]
) -> None:
    """A repeated vertex (a zero-length segment) is skipped: the projection and the
    interpolation equal those on the polyline without it (before: NaN)."""
    line = np.array(vertices)
    if np.any(np.all(np.diff(line, axis=0) == 0.0, axis=1)):
        return
    k = repeat % len(line)
    doubled = np.insert(line, k, line[k], axis=0)
    np.testing.assert_array_equal(
        np.array(project_to_polyline(doubled, points)), np.array(project_to_polyline(line, points))
    )
    s = polyline_stations(line)[[0, -1]] * [0.3, 0.7]
    np.testing.assert_array_equal(
        interpolate_polyline(doubled, s)[0], interpolate_polyline(line, s)[0]
    )


@settings(max_examples=25, deadline=None)
@given(m=st.integers(1, 6))
def test_any_xyz_point_count_is_refused(m: int) -> None:
    """(M, 3) for any M (the old reshape took 2, 4, 6, ... of them silently)."""
    with pytest.raises(ValueError, match=rf"got shape \({m}, 3\)"):
        project_to_polyline(LINE, np.zeros((m, 3)))


@pytest.mark.data
def test_real_map_queries_refuse_xyz(shared_data: Path) -> None:
    from drivestack.ingest.maps import read_opendrive

    path = shared_data / "opendrive_esmini" / "fabriksgatan.xodr"
    if not path.is_file():
        missing_shared_data(f"{path} not found")
    road_map = read_opendrive(path)
    lane = road_map.lane("0_0_1")
    xy = lane.centerline_m[[3, 5]]
    assert road_map.distance_outside_drivable_m(xy).tolist() == [0.0, 0.0]
    station, lateral = lane.project(xy)
    np.testing.assert_allclose(station, polyline_stations(lane.centerline_m)[[3, 5]])
    np.testing.assert_allclose(lateral, 0.0, atol=1e-9)
    for query in (road_map.distance_outside_drivable_m, lane.project):
        with pytest.raises(ValueError, match=r"points_m must be \(M, 2\) points"):
            query(np.c_[xy, np.zeros(2)])


def test_batch_se3_with_a_mismatched_point_count_names_both_shapes() -> None:
    poses = SE3.from_xyz_yaw(np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(
        ValueError,
        match=r"points of shape \(7, 3\) do not fit a batch of \(5,\) transforms: give one "
        r"point set per transform, \(5, N, 3\), or .* broadcast with the batch \(5,\), \(\.\.\., 3\)",
    ):
        poses.apply(np.ones((7, 3)))
    assert poses.apply(np.ones((5, 7, 3))).shape == (5, 7, 3)
    assert poses.apply(np.ones((5, 3))).shape == (5, 3)


def test_repeated_track_ids_are_named() -> None:
    boxes = Boxes3D.from_array7(np.zeros((4, 7)), "ego")
    with pytest.raises(
        ValueError, match=r"Tracks.track_id must be unique, got 1, 7 more than once"
    ):
        Tracks(np.array([7, 1, 7, 1]), boxes)


def test_raw_detector_scores_are_kept() -> None:
    """PointRCNN-style raw scores outside [0, 1] stay as given (higher = more confident)."""
    boxes = Boxes3D.from_array7(np.zeros((2, 7)), "ego", score=[5.0, -1.0])
    assert boxes.score.tolist() == [5.0, -1.0]
