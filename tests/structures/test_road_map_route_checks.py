"""RoadMap route and lane queries: checked arguments, routes that the centreline builder can
always drive, routes from a pose (a fork), drivable lanes only (hand-built maps)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.structures.road_map import Lane, LaneChangeRoomError, RoadMap
from tests.structures._helpers import straight_lane


def _pair() -> RoadMap:
    """``a`` (y = 0) and ``b`` (y = 3.5), 100 m long, neighbours of each other."""
    return RoadMap(
        (
            straight_lane("a", 0.0, 100.0, 0.0, left_neighbor="b"),
            straight_lane("b", 0.0, 100.0, 3.5, right_neighbor="a"),
        )
    )


# --- finding 1: lane_change_cost_m ---------------------------------------------------------


@pytest.mark.parametrize("cost", [-1.0, math.nan, math.inf])
def test_lane_change_cost_must_be_finite_and_not_negative(cost: float) -> None:
    # before: -1 returned ['a', 'b'] (a negative cost: Dijkstra's loop on a cycle of lane
    # changes never ends when the goal is further); NaN said 'b' is not reachable
    with pytest.raises(ValueError, match="lane_change_cost_m must be a finite number >= 0"):
        _pair().route("a", "b", lane_change_cost_m=cost)
    assert _pair().route("a", "b", lane_change_cost_m=0.0) == ["a", "b"]


# --- finding 2: a route is always drivable --------------------------------------------------


def _short_change_map(with_long_way: bool = True) -> RoadMap:
    """``s`` (-100..0 m, y = 0) runs into ``a`` (0..3 m); ``b`` (0..3 m, y = 3.5) is ``a``'s
    left neighbour. With ``with_long_way``, ``t`` (-120..0 m, y = 3.5), ``s``'s left
    neighbour, runs into ``b``."""
    lanes = [
        straight_lane(
            "s", -100.0, 0.0, 0.0, successors=("a",), left_neighbor="t" if with_long_way else None
        ),
        straight_lane("a", 0.0, 3.0, 0.0, predecessors=("s",), left_neighbor="b"),
        straight_lane(
            "b", 0.0, 3.0, 3.5, right_neighbor="a", predecessors=("t",) if with_long_way else ()
        ),
    ]
    if with_long_way:
        lanes.append(straight_lane("t", -120.0, 0.0, 3.5, successors=("b",), right_neighbor="s"))
    return RoadMap(tuple(lanes))


def test_route_leaves_out_a_lane_change_without_room() -> None:
    m = _short_change_map()
    # costs: s -> a -> b = 100 (s) + 50 = 150, s -> t -> b = 50 + 120 (t) = 170; but a -> b
    # has 3 m to move 3.5 m sideways (49 deg > 30 deg): route_centerline refuses it
    with pytest.raises(LaneChangeRoomError, match="lane change from lane 'a' to lane 'b'"):
        m.route_centerline(["s", "a", "b"])
    route = m.route("s", "b")
    assert route == ["s", "t", "b"]  # before: ['s', 'a', 'b']
    assert len(m.route_centerline(route)) >= 2


def test_route_without_room_anywhere_is_a_lookup_error_naming_the_step() -> None:
    m = _short_change_map(with_long_way=False)
    with pytest.raises(LookupError, match=r"left out for want of room: \[\('a', 'b'\)\]"):
        m.route("s", "b")


# --- finding 3: route from a pose -----------------------------------------------------------


def _fork() -> RoadMap:
    """``f1`` along +x (0..50 m, y = 0) and ``f2`` from the origin to (50, 20) overlap near the
    origin; only ``f2`` leads to ``g``."""
    n = np.array([-0.4, 1.0]) / math.hypot(0.4, 1.0)  # f2's left normal
    c2 = np.array([[0.0, 0.0], [50.0, 20.0]])
    f2 = Lane("f2", c2, c2 + 1.75 * n, c2 - 1.75 * n, successors=("g",))
    g = Lane(
        "g", [[50.0, 20.0], [90.0, 36.0]], [[50.0, 20.0], [90.0, 36.0]] + 1.75 * n,
        [[50.0, 20.0], [90.0, 36.0]] - 1.75 * n, predecessors=("f2",),
    )  # fmt: skip
    return RoadMap((straight_lane("f1", 0.0, 50.0, 0.0), f2, g))


def test_route_from_a_fork_starts_on_the_branch_that_leads_to_the_goal() -> None:
    m = _fork()
    p = (5.0, 0.5)  # 0.5 m from f1's centreline, |0.4 * 5 - 0.5| / 1.077 = 1.39 m from f2's
    assert m.lanes_at(p, 0.0) == ["f1", "f2"]
    assert m.nearest_lane(p, 0.0) == "f1"  # the closer centreline: no route to g from there
    with pytest.raises(LookupError):
        m.route("f1", "g")
    assert m.route_from(p, 0.0, ["g"]) == ["f2", "g"]
    assert m.route_from(p, 0.0, ["f1", "g"]) == ["f1"]  # cost 0 beats f2's 53.9 m


def test_route_from_off_every_lane_uses_the_nearest_and_names_what_it_tried() -> None:
    m = _fork()
    # (25, -4) lies in no lane; f1's centreline is 4 m away, f2's |10 + 4| / 1.077 = 13 m
    with pytest.raises(LookupError, match="lane 'g' is not reachable from lane 'f1'"):
        m.route_from((25.0, -4.0), 0.0, ["g"])
    far = RoadMap((*m.lanes, straight_lane("h", 200.0, 300.0, 0.0)))
    with pytest.raises(
        LookupError,
        match=r"none of goal lanes \['h'\] is reachable from start lanes \['f1', 'f2'\]",
    ):
        far.route_from((5.0, 0.5), 0.0, ["h"])
    with pytest.raises(LookupError, match="no lane heading within 90 deg"):
        m.route_from((5.0, 0.5), math.pi, ["g"])
    with pytest.raises(LookupError, match=r"no lane within 50\.0 m"):
        m.route_from((500.0, 500.0), 0.0, ["g"])
    with pytest.raises(ValueError, match="goal_lanes"):
        m.route_from((5.0, 0.5), 0.0, [])
    with pytest.raises(TypeError, match="list of lane ids"):
        m.route_from((5.0, 0.5), 0.0, "g")


# --- finding 6: drivable lanes only ---------------------------------------------------------


def _road_with_sidewalk() -> RoadMap:
    """``r1`` (0..50 m) -> sidewalk ``sw`` (50..60 m) -> ``r2`` (60..100 m)."""
    return RoadMap(
        (
            straight_lane("r1", 0.0, 50.0, 0.0, successors=("sw",)),
            straight_lane("sw", 50.0, 60.0, 0.0, successors=("r2",), lane_type="sidewalk"),
            straight_lane("r2", 60.0, 100.0, 0.0),
        )
    )


def test_route_keeps_to_drivable_lanes_unless_asked() -> None:
    m = _road_with_sidewalk()
    with pytest.raises(LookupError, match="not reachable from lane 'r1' over drivable lanes"):
        m.route("r1", "r2")  # before: ['r1', 'sw', 'r2']
    assert m.route("r1", "r2", drivable_only=False) == ["r1", "sw", "r2"]
    with pytest.raises(LookupError, match=r"lanes \['sw'\] are not drivable"):
        m.route("sw", "r2")
    assert m.route("sw", "r2", drivable_only=False) == ["sw", "r2"]


# --- finding 7: nearest_lane / lanes_at inputs ----------------------------------------------


def test_nearest_lane_says_when_lanes_only_face_the_other_way() -> None:
    m = _pair()
    assert m.nearest_lane((10.0, 0.0), 0.0) == "a"
    with pytest.raises(LookupError, match=r"no lane heading within 90 deg .*\(2 lanes nearby"):
        m.nearest_lane((10.0, 0.0), math.pi)  # before: "no lane within 50.0 m" (0 m away)
    with pytest.raises(LookupError, match=r"no lane within 5\.0 m"):
        m.nearest_lane((10.0, 20.0), 0.0, max_distance_m=5.0)


@pytest.mark.parametrize("query", ["nearest_lane", "lanes_at"])
def test_lane_queries_refuse_a_bad_point_or_yaw(query: str) -> None:
    ask = getattr(_pair(), query)
    with pytest.raises(ValueError, match=r"point_m must be finite, got \[nan, 0.0\]"):
        ask([math.nan, 0.0])  # before: "no lane within 50.0 m" / []
    with pytest.raises(ValueError, match="yaw_rad must be a finite number, got nan"):
        ask([10.0, 0.0], math.nan)  # before: the yaw was ignored
    with pytest.raises(ValueError, match=r"shape \(2,\), got shape \(2, 2\) \(query one point"):
        ask([[10.0, 0.0], [20.0, 0.0]])  # before: a numpy reshape error
    assert ask([10.0, 0.0], 0.0) in ("a", ["a"])
