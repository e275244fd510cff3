"""The synthetic four-way intersection marks its junction: the connectors in the box, and only
they, carry ``junction_id``; routes stay as they were; all-way stops end at the box."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.ingest.maps.synthetic import INTERSECTION_JUNCTION_ID, four_way_intersection
from drivestack.planning.stop_signs import JUNCTION_REACH_M, all_way_lines
from drivestack.structures.road_map import RoadMap

ARMS = ("east", "north", "west", "south")


def _unmarked(road_map: RoadMap) -> RoadMap:
    """``road_map`` with every lane's ``junction_id`` cleared (the map as before marking)."""
    lanes = tuple(dataclasses.replace(lane, junction_id=None) for lane in road_map.lanes)
    return dataclasses.replace(road_map, lanes=lanes)


@settings(max_examples=15, deadline=None)
@given(
    box_half_m=st.floats(4.0, 20.0),
    lane_width_m=st.floats(2.5, 4.0),
    arm_length_m=st.floats(20.0, 200.0),
)
def test_junction_lanes_are_those_inside_the_box(
    box_half_m: float, lane_width_m: float, arm_length_m: float
) -> None:
    m = four_way_intersection(
        arm_length_m=arm_length_m, lane_width_m=lane_width_m, box_half_m=box_half_m
    )
    for lane in m.lanes:
        inner = lane.centerline_m[1:-1]  # its ends may lie on the box's edge
        inside = np.all(np.abs(inner) < box_half_m, axis=1)
        if "_to_" in lane.lane_id:  # a connector: all of it inside the box
            assert lane.junction_id == INTERSECTION_JUNCTION_ID
            assert np.all(np.abs(lane.centerline_m) <= box_half_m + 1e-9)
            assert inside.all()
        else:  # an arm: none of it inside
            assert lane.junction_id is None
            assert not inside.any()


def test_routes_through_the_junction_unchanged() -> None:
    m = four_way_intersection()
    before = _unmarked(m)
    assert {lane.junction_id for lane in m.lanes} == {None, INTERSECTION_JUNCTION_ID}
    assert m.route("south_in", "north_out", cost="junctions") == [
        "south_in",
        "south_to_north",
        "north_out",
    ]
    for src in ARMS:
        for dst in ARMS:
            if src == dst:
                continue
            start, goal = f"{src}_in", f"{dst}_out"
            route = m.route(start, goal, cost="junctions")
            assert route == [start, f"{src}_to_{dst}", goal]
            assert route == m.route(start, goal) == before.route(start, goal, cost="junctions")
            centre = m.lane(start).centerline_m
            yaw = float(np.arctan2(*(centre[1] - centre[0])[::-1]))
            assert m.route_from(centre[1], yaw, [goal]) == route
            assert before.route_from(centre[1], yaw, [goal]) == route


def test_all_way_stop_reaches_to_the_box_edge() -> None:
    # each line 4 m before the box (box_half_m + 4 from the centre); the farthest way on is
    # the longest connector, the straight one across the box (2 x box_half_m = 20 m): 24 m
    m = four_way_intersection(stop_sign_arms=4)
    sign = m.stop_signs[0]
    lines = all_way_lines(m, sign)
    assert sorted(line.lane_id for line in lines) == sorted(f"{arm}_in" for arm in ARMS)
    for line in lines:
        connectors = [m.lane(s) for s in m.lane(line.lane_id).successors]
        assert m.lane(line.lane_id).length_m - line.station_m == pytest.approx(4.0)
        assert max(c.length_m for c in connectors) == pytest.approx(20.0)
        assert line.exit_m == pytest.approx(24.0)
        assert line.exit_m < JUNCTION_REACH_M
    # before marking, the fallback reach: 40 m or the line's lane end plus a connector
    for line in all_way_lines(_unmarked(m), sign):
        assert line.exit_m == pytest.approx(JUNCTION_REACH_M)
