"""``RoadMap.route``'s ``cost``: ``"length"`` (the default) takes the shortest lanes, ``"time"``
the quickest at the lanes' speed limits (a lane change the time to drive
``lane_change_cost_m`` at the limit of the lane it leaves); another cost is refused."""

from __future__ import annotations

import pytest

from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.structures.road_map import RoadMap
from tests.structures._helpers import straight_lane


def _fork() -> RoadMap:
    """``start`` (10 m, 13.89 m/s) forks to a short slow ``short`` (20 m at 2 m/s) and a long
    fast ``long`` (40 m at 20 m/s); both lead to ``goal``."""
    return RoadMap(
        (
            straight_lane("start", 0.0, 10.0, 0.0, successors=("short", "long")),
            straight_lane("short", 10.0, 30.0, 0.0, speed_limit_mps=2.0, successors=("goal",)),
            straight_lane("long", 10.0, 50.0, 0.0, speed_limit_mps=20.0, successors=("goal",)),
            straight_lane("goal", 50.0, 60.0, 0.0),
        )
    )


def test_length_takes_the_short_lane_and_time_the_fast_one() -> None:
    m = _fork()
    # length: 10 + 20 = 30 m via short, 10 + 40 = 50 m via long
    assert m.route("start", "goal", cost="length") == ["start", "short", "goal"]
    # time: 10 / 13.89 + 20 / 2 = 10.72 s via short, 10 / 13.89 + 40 / 20 = 2.72 s via long
    assert m.route("start", "goal", cost="time") == ["start", "long", "goal"]


def _two_lanes() -> RoadMap:
    """A slow right lane ``a`` -> ``a2`` (100 m each at 5 m/s) beside a fast left lane ``b`` ->
    ``b2`` (100 m each at 25 m/s)."""
    slow, fast = {"speed_limit_mps": 5.0}, {"speed_limit_mps": 25.0}
    return RoadMap(
        (
            straight_lane("a", 0.0, 100.0, 0.0, left_neighbor="b", successors=("a2",), **slow),
            straight_lane("a2", 100.0, 200.0, 0.0, left_neighbor="b2", **slow),
            straight_lane("b", 0.0, 100.0, 3.5, right_neighbor="a", successors=("b2",), **fast),
            straight_lane("b2", 100.0, 200.0, 3.5, right_neighbor="a2", **fast),
        )
    )


@pytest.mark.parametrize(
    ("lane_change_cost_m", "route"),
    [
        # over b: 50 / 5 + 100 / 25 + 50 / 25 = 16 s < a's 100 / 5 = 20 s
        (50.0, ["a", "b", "b2", "a2"]),
        # over b: 80 / 5 + 100 / 25 + 80 / 25 = 23.2 s > 20 s
        (80.0, ["a", "a2"]),
    ],
)
def test_time_prices_a_lane_change_at_the_limit_of_the_lane_it_leaves(
    lane_change_cost_m: float, route: list[str]
) -> None:
    m = _two_lanes()
    assert m.route("a", "a2", lane_change_cost_m, cost="time") == route
    # by length a2 is a's successor: 100 m against 50 + 100 + 50 m over b
    assert m.route("a", "a2", lane_change_cost_m) == ["a", "a2"]


@pytest.mark.parametrize(
    ("m", "start", "goal"),
    [
        (_fork(), "start", "goal"),
        (_two_lanes(), "a", "a2"),
        (_two_lanes(), "b", "a2"),
        (four_way_intersection(), "south_in", "east_out"),
    ],
)
def test_the_default_is_length(m: RoadMap, start: str, goal: str) -> None:
    assert m.route(start, goal) == m.route(start, goal, cost="length")


def test_an_unknown_cost_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown route cost 'distance'"):
        _fork().route("start", "goal", cost="distance")
