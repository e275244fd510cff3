"""RoadMap.route_centerline's lane changes: a smooth (quintic) blend as long as
LANE_CHANGE_DURATION_S of driving at the lane's limit, from where the drive starts (before: a
fixed 20 m straight blend midway along the lane, a kink the speed profile braked to 8 m/s for)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.ingest.maps.synthetic import curved_road, straight_road
from drivestack.planning.reference_path import ReferencePath
from drivestack.structures.road_map import (
    LANE_CHANGE_DURATION_S,
    MIN_LANE_CHANGE_LENGTH_M,
    lane_change_offset,
)

# straight_road: lanes from x = -100 m, road_0 centred on y = 1.75, road_1 on y = 5.25
X0_M, Y0_M, Y1_M = -100.0, 1.75, 5.25
# the quintic's steepest slope (15 / 8) and largest second derivative (10 / sqrt(3))
MAX_SLOPE, MAX_BEND = 15.0 / 8.0, 10.0 / math.sqrt(3.0)


def _y_at(line: np.ndarray, x_m: float) -> float:
    return float(np.interp(x_m, line[:, 0], line[:, 1]))


def test_offset_profile_by_hand() -> None:
    u = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    # 1 - (10 u^3 - 15 u^4 + 6 u^5): at 1/4, 1 - (0.15625 - 0.05859375 + 0.005859375)
    np.testing.assert_allclose(lane_change_offset(u), [1.0, 0.896484375, 0.5, 0.103515625, 0.0])
    assert lane_change_offset(np.array([-1.0, 2.0])).tolist() == [1.0, 0.0]  # clipped
    # zero slope at both ends, 15/8 at the middle (central differences)
    h = 1e-6
    slope = (
        lane_change_offset(np.array([h, 0.5 + h, 1.0]))
        - lane_change_offset(np.array([0.0, 0.5 - h, 1.0 - h]))
    ) / np.array([h, 2 * h, h])
    np.testing.assert_allclose(slope, [0.0, -MAX_SLOPE, 0.0], atol=1e-5)


def test_blend_from_the_start_station_scales_with_the_limit() -> None:
    road = straight_road(speed_limit_mps=27.8)
    length = LANE_CHANGE_DURATION_S * 27.8  # 111.2 m
    line = road.route_centerline(["road_0", "road_1"], start_station_m=50.0)
    start = X0_M + 50.0  # the blend leaves road_0 at the start station
    assert _y_at(line, start - 10.0) == pytest.approx(Y0_M)
    assert _y_at(line, start) == pytest.approx(Y0_M)
    assert _y_at(line, start + 0.25 * length) == pytest.approx(Y1_M - 3.5 * 0.896484375, abs=2e-3)
    assert _y_at(line, start + 0.5 * length) == pytest.approx(3.5, abs=2e-3)
    assert _y_at(line, start + length) == pytest.approx(Y1_M)
    assert _y_at(line, start + length + 50.0) == pytest.approx(Y1_M)
    # its sharpest bend: about 5.77 * 3.5 / 111.2^2 = 0.00163 1/m, 1.0 m/s^2 sideways at
    # 25 m/s (the 20 m blend: a kink the speed profile held to about 8 m/s)
    ref = ReferencePath.from_polyline(line, 27.8)
    bend = MAX_BEND * 3.5 / length**2
    kappa = np.max(np.abs(ref.smoothed_curvature_1pm))
    assert kappa == pytest.approx(bend, rel=0.05)
    assert np.min(ref.speed_limits(2.5)) == pytest.approx(27.8)  # no bend speed below the limit


def test_without_a_start_the_blend_leaves_midway_and_a_slow_lane_blends_shorter() -> None:
    road = straight_road(length_m=600.0, speed_limit_mps=13.89)
    length = LANE_CHANGE_DURATION_S * 13.89  # 55.6 m
    line = road.route_centerline(["road_0", "road_1"])
    middle = X0_M + 300.0
    assert _y_at(line, middle) == pytest.approx(Y0_M)
    assert _y_at(line, middle + 0.5 * length) == pytest.approx(3.5, abs=2e-3)
    assert _y_at(line, middle + length) == pytest.approx(Y1_M)
    # an explicit length, and the floor of MIN_LANE_CHANGE_LENGTH_M for a crawl
    fixed = road.route_centerline(["road_0", "road_1"], lane_change_length_m=30.0)
    assert _y_at(fixed, middle + 15.0) == pytest.approx(3.5, abs=2e-3)
    slow = straight_road(speed_limit_mps=2.0)
    crawl = slow.route_centerline(["road_0", "road_1"], start_station_m=0.0)
    assert _y_at(crawl, X0_M + 0.5 * MIN_LANE_CHANGE_LENGTH_M) == pytest.approx(3.5, abs=2e-3)


def test_bad_lengths_and_stations_are_refused() -> None:
    road = straight_road()
    with pytest.raises(ValueError, match="lane_change_length_m"):
        road.route_centerline(["road_0", "road_1"], lane_change_length_m=0.0)
    with pytest.raises(ValueError, match="start_station_m"):
        road.route_centerline(["road_0", "road_1"], start_station_m=math.nan)


def test_a_start_near_the_lanes_end_leaves_earlier() -> None:
    # 600 m lanes with no successor: from 590 m the blend would run past the lanes' end, so
    # it leaves road_0 early enough for its full length, behind the start
    road = straight_road(speed_limit_mps=27.8)
    length = LANE_CHANGE_DURATION_S * 27.8
    line = road.route_centerline(["road_0", "road_1"], start_station_m=590.0)
    end = X0_M + 600.0
    assert line[-1, 0] == pytest.approx(end, abs=1e-2) and line[-1, 1] == pytest.approx(Y1_M)
    assert _y_at(line, end - length - 1.0) == pytest.approx(Y0_M)
    assert _y_at(line, end - 0.5 * length) == pytest.approx(3.5, abs=5e-3)


@settings(max_examples=40, deadline=None)
@given(limit=st.floats(5.0, 40.0), start=st.floats(0.0, 600.0), left=st.booleans())
def test_the_blend_is_monotone_and_as_steep_as_its_length_allows(
    limit: float, start: float, left: bool
) -> None:
    road = straight_road(n_lanes=2, speed_limit_mps=limit)
    route = ["road_0", "road_1"] if left else ["road_1", "road_0"]
    line = road.route_centerline(route, start_station_m=start)
    assert np.all(np.diff(line[:, 0]) > 0.0)  # always forwards
    y_from, y_to = (Y0_M, Y1_M) if left else (Y1_M, Y0_M)
    assert line[0, 1] == pytest.approx(y_from) and line[-1, 1] == pytest.approx(y_to)
    assert np.all((line[:, 1] >= Y0_M - 1e-9) & (line[:, 1] <= Y1_M + 1e-9))
    assert np.all(np.diff(line[:, 1]) * (1.0 if left else -1.0) >= -1e-12)  # no overshoot
    # never steeper than the quintic over the wanted length (shortened only at the road's end)
    length = max(LANE_CHANGE_DURATION_S * limit, MIN_LANE_CHANGE_LENGTH_M)
    room = 600.0 - min(start, 600.0)
    if room >= length:
        slope = np.abs(np.diff(line[:, 1]) / np.diff(line[:, 0]))
        assert np.max(slope) <= MAX_SLOPE * 3.5 / length * 1.01
        leave = X0_M + start
        assert _y_at(line, leave) == pytest.approx(y_from)
        assert _y_at(line, leave + length) == pytest.approx(y_to)


@pytest.mark.parametrize("start_m", [100.0, 150.0, 200.0])
def test_a_blend_round_a_bend_adds_only_its_own_bend(start_m: float) -> None:
    # curved_road: a left arc of radius 100 m (the right edge), road_0's centre on 101.75 m,
    # from x = 0 (lane station 150); the blend (4 s at 16.67 m/s = 66.7 m) before, across the
    # start of and inside the arc bends the path at most 1 / 101.75 + 5.77 * 3.5 / 66.7^2,
    # smoothly (the raw point-to-point curvature as the 5-point average: no zigzag where the
    # offset meets the lane's vertices)
    road = curved_road()
    length = LANE_CHANGE_DURATION_S * 16.67
    ref = ReferencePath.from_route(road, ["road_0", "road_1"], start_station_m=start_m)
    bound = 1.0 / 101.75 + MAX_BEND * 3.5 / length**2
    assert np.max(np.abs(ref.smoothed_curvature_1pm)) <= bound * 1.02
    assert np.max(np.abs(ref.curvature_1pm)) <= bound * 1.05
    # it starts on road_0 at the start station and ends on road_1
    lane_0, lane_1 = road.lane("road_0"), road.lane("road_1")
    assert abs(float(lane_0.project(ref.xy_m[:1])[1][0])) < 1e-3
    assert abs(float(lane_1.project(ref.xy_m[-1:])[1][0])) < 1e-3
    before = ref.xy_m[int(np.searchsorted(ref.station_m, start_m - 1.0))][None]
    assert abs(float(lane_0.project(before)[1][0])) < 1e-3
    after = ref.xy_m[int(np.searchsorted(ref.station_m, start_m + length + 1.0))][None]
    assert abs(float(lane_1.project(after)[1][0])) < 1e-3
