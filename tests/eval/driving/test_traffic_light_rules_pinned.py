"""Red-light violation rules that a mutation review found unguarded (each test fails under the
mutation its comment names).

Drives built with the helpers of ``test_traffic_light_violations``: the straight two-lane road
along +x (road_0 centred on y = 1.75 m, 3.5 m wide; station s at x = s - 100), light ``L1``
stopping road_0 at station 200 m (the stop segment across the lane at x = 100 m), always red.
The rules (``drivestack.eval.driving.traffic_lights`` module doc): the front bumper passes the
segment when it crosses the line forwards with the crossing point (interpolated on the move)
between the segment's right and left ends, each end at its own boundary's distance, heading
within 60 deg of the lane (compared on the circle) at both ticks.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import (
    front_bumper_m,
    red_light_violations,
    stop_segments,
)
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap
from tests._map_helpers import moved_map
from tests.eval.driving.test_traffic_light_violations import (
    PASSING_X_M,
    ROAD,
    history,
    light,
    road_with,
)

STOP_X_M = 100.0  # road_0 station 200 m
LANE_Y_M = 1.75


def _road() -> RoadMap:
    return road_with(light("L1", ("road_0", 200.0)))


def _front_through(front_xy: np.ndarray, yaw_rad: float) -> SimHistory:
    """A drive at red whose front bumper runs through ``front_xy (T, 2)``, heading
    ``yaw_rad``."""
    h = history(front_xy[:, 0], {"L1": "red"}, y_m=0.0, yaw_rad=yaw_rad)
    boxes = h.ego_boxes.copy()
    boxes[:, 1] += front_xy[:, 1]  # the front was at (x, 0): now at (x, y)
    np.testing.assert_allclose(front_bumper_m(boxes), front_xy, atol=1e-9)
    return dataclasses.replace(h, ego_boxes=boxes)


def test_the_heading_test_wraps_across_pi() -> None:
    # The scene turned by pi - 0.01: the lane heads +3.1316 rad (west). The ego drives along
    # it 0.02 rad to the left of the lane, at yaw pi + 0.01, recorded wrapped as
    # -pi + 0.01 = -3.1316. On the circle that is 0.02 rad off the lane (cos 0.9998 >=
    # cos 60 deg): one violation (a plain |yaw difference| of 2 pi - 0.02 would say 0).
    angle = math.pi - 0.01
    turned = moved_map(_road(), angle, (0.0, 0.0))
    (seg,) = stop_segments(turned)
    drive = history(PASSING_X_M, {"L1": "red"})
    c, s = math.cos(angle), math.sin(angle)
    boxes = drive.ego_boxes.copy()
    boxes[:, :2] = boxes[:, :2] @ np.array([[c, -s], [s, c]]).T
    boxes[:, 6] = math.atan2(math.sin(angle + 0.02), math.cos(angle + 0.02))
    assert seg.heading_rad == pytest.approx(math.pi - 0.01)
    assert boxes[0, 6] == pytest.approx(-math.pi + 0.01)
    moved = dataclasses.replace(drive, ego_boxes=boxes)
    assert red_light_violations(moved, turned).count == 1


def _road_with_the_centreline_off_centre() -> RoadMap:
    """road_0 with its centreline 0.5 m right of the lane's middle (y = 1.25 m), the light on
    it: the left boundary (y = 3.5) 2.25 m from it, the right one (y = 0) 1.25 m."""
    lanes = []
    for lane in ROAD.lanes:
        if lane.lane_id == "road_0":
            centreline = lane.centerline_m.copy()
            centreline[:, 1] -= 0.5
            lane = dataclasses.replace(lane, centerline_m=centreline)
        lanes.append(lane)
    return road_with(
        light("L1", ("road_0", 200.0)), road=dataclasses.replace(ROAD, lanes=tuple(lanes))
    )


@pytest.mark.parametrize(
    ("front_y_m", "count"),
    [
        # 3.25 - 1.25 = 2.0 m left of the centre: within the left reach 2.25 -> counts
        # (with the reaches swapped, or the left one measured to the right boundary, 2.0 >
        # 1.25: none)
        (3.25, 1),
        # -0.25 - 1.25 = 1.5 m right: past the right reach 1.25 (off the lane) -> none
        # (swapped: 1.5 <= 2.25 counts)
        (-0.25, 0),
    ],
)
def test_each_side_of_the_stop_segment_reaches_its_own_boundary(
    front_y_m: float, count: int
) -> None:
    road = _road_with_the_centreline_off_centre()
    (seg,) = stop_segments(road)
    assert seg.left_m == pytest.approx(2.25)
    assert seg.right_m == pytest.approx(1.25)
    drive = history(PASSING_X_M, {"L1": "red"}, y_m=front_y_m)
    assert red_light_violations(drive, road).count == count


@pytest.mark.parametrize(("heading_deg", "count"), [(50.0, 1), (70.0, 0)])
def test_only_headings_within_60_deg_of_the_lane_pass_the_line(
    heading_deg: float, count: int
) -> None:
    # The front moves 1 m a tick along the heading through the segment's centre (100, 1.75),
    # 0.2 m before it at tick 4 and 0.8 m past it at tick 5: crossing at lateral 0. At 50 deg
    # (cos 0.64 >= cos 60 deg = 0.5) it passes the line; at 70 deg (cos 0.34) it is crossing
    # the lane, not driving along it (a limit of 89 deg would count it).
    yaw = math.radians(heading_deg)
    step = np.arange(11) - 4.2
    front = np.column_stack([STOP_X_M + step * math.cos(yaw), LANE_Y_M + step * math.sin(yaw)])
    assert red_light_violations(_front_through(front, yaw), _road()).count == count


def test_the_lateral_is_read_at_the_crossing_point() -> None:
    # The front moves (1.0, 1.1) m a tick (heading 47.7 deg): from 1.0 m left of the centre at
    # x = 99.5 (tick 1) to 2.1 m left at x = 100.5 (tick 2), past the lane's 1.75 m left edge.
    # It crosses x = 100 halfway: 1.0 + 0.5 * 1.1 = 1.55 m left, inside the segment -> a
    # violation at tick 2 (reading the lateral at tick 2, 2.1 m: none).
    k = np.arange(4)
    front = np.column_stack([98.5 + k, LANE_Y_M + 1.0 + 1.1 * (k - 1)])
    h = _front_through(front, math.atan2(1.1, 1.0))
    result = red_light_violations(h, _road())
    assert [v.tick for v in result.violations] == [2]
