"""Synthetic road maps: geometry checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import (
    build_synthetic_map,
    curved_road,
    four_way_intersection,
    merge_road,
    straight_road,
)


def test_straight_road_lanes() -> None:
    road = straight_road(length_m=300.0, n_lanes=3, lane_width_m=3.0, speed_limit_mps=20.0)
    assert [lane.lane_id for lane in road.lanes] == ["road_0", "road_1", "road_2"]
    np.testing.assert_allclose(road.lane("road_1").centerline_m[:, 1], 4.5)
    assert (
        road.lane("road_1").left_neighbor == "road_2"
        and road.lane("road_1").right_neighbor == "road_0"
    )
    assert road.lane("road_2").length_m == pytest.approx(300.0)


def test_curved_road_lane_radii() -> None:
    radius = 80.0
    road = curved_road(radius_m=radius, sweep_rad=math.pi / 2, n_lanes=2, lane_width_m=3.5)
    lane = road.lane("road_1")  # inner lane of the left bend: centre radius R - 1.5 * w
    on_arc = lane.centerline_m[
        (lane.centerline_m[:, 0] > 1.0) & (lane.centerline_m[:, 1] < radius - 1.0)
    ]
    r = np.hypot(on_arc[:, 0], on_arc[:, 1] - radius)
    np.testing.assert_allclose(
        r, radius - 1.5 * 3.5, atol=1e-3
    )  # mitred vertices of a 1 m chord polyline


def test_intersection_topology() -> None:
    m = four_way_intersection()
    assert len(m) == 8 + 12  # 4 arms x (in, out) + 12 connectors
    assert m.route("south_in", "west_out") == ["south_in", "south_to_west", "west_out"]
    assert set(m.lane("south_in").successors) == {
        "south_to_east",
        "south_to_north",
        "south_to_west",
    }
    assert len(m.crosswalks) == 4 and len(m.stop_lines) == 4
    # right-hand traffic: northbound on the east side
    assert m.lane("south_in").centerline_m[0, 0] == pytest.approx(1.75)


def test_merge_topology_and_builder_errors() -> None:
    m = merge_road()
    assert set(m.lane("main_b").predecessors) == {"main_a", "ramp"}
    np.testing.assert_allclose(m.lane("ramp").centerline_m[-1], m.lane("main_b").centerline_m[0])
    with pytest.raises(ValueError, match="unknown synthetic map"):
        build_synthetic_map("roundabout")
