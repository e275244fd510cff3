"""Turn arrows for the planners: a light's stop applies to a route or lane path only when it
goes on from the stop's lane into a way out the light governs (``LaneStop.next_lanes``), the
planners' forecast of an agent stops at a turn arrow only when every way out is governed, and
``LaneStop`` checks its ways. The map is the hand-built CommonRoad intersection of
``tests/ingest/maps/turn_arrows.py`` (stop line at x = 60 m on lanelet 1)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.commonroad import read_commonroad
from drivestack.planning.light_forecast import chain_light_stops, light_stop_travel_m
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.traffic_lights import RouteLightStop, governs_way, route_light_stops
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight
from tests.ingest.maps.turn_arrows import AFTER, LEFT, LINE_X_M, RIGHT, STRAIGHT, write_intersection

ARROW = RouteLightStop("10", "1", LINE_X_M)  # the left arrow's stop on lanelet 1
PLAIN = RouteLightStop("11", "1", LINE_X_M)  # the straight light's


@pytest.fixture(scope="module")
def road_map(tmp_path_factory: pytest.TempPathFactory) -> RoadMap:
    return read_commonroad(write_intersection(tmp_path_factory.mktemp("cr"))).road_map


def _route_stops(road_map: RoadMap, lanes: list[str]) -> tuple[RouteLightStop, ...]:
    """The route's stops, stations rounded to the mm (the reference path is smoothed into
    the turns: the line projects within 0.1 mm of x = 60 m)."""
    stops = route_light_stops(road_map, lanes, ReferencePath.from_route(road_map, lanes))
    return tuple(dataclasses.replace(s, station_m=round(s.station_m, 3)) for s in stops)


@pytest.mark.parametrize(
    ("lanes", "stops"),
    [
        (["1", STRAIGHT, AFTER[STRAIGHT]], (PLAIN,)),  # straight on: the straight light only
        (["1", LEFT, AFTER[LEFT]], (ARROW,)),  # turning left: the arrow only
        (["1", RIGHT, AFTER[RIGHT]], ()),  # right: neither governs it
        (["1"], (ARROW, PLAIN)),  # a route ending on the stop lane stops for both
    ],
)
def test_a_route_stops_only_for_the_lights_of_its_way(
    road_map: RoadMap, lanes: list[str], stops: tuple[RouteLightStop, ...]
) -> None:
    assert _route_stops(road_map, lanes) == stops


def test_a_light_governing_every_way_stops_every_route(tmp_path: Path) -> None:
    road_map = read_commonroad(write_intersection(tmp_path, arrow="all", other=None)).road_map
    for way in (STRAIGHT, LEFT, RIGHT):
        assert _route_stops(road_map, ["1", way, AFTER[way]]) == (ARROW, PLAIN)


def test_governs_way_rules(road_map: RoadMap) -> None:
    arrow, lane = road_map.traffic_light("10"), road_map.lane("1")
    assert governs_way(arrow, lane, LEFT)
    assert not governs_way(arrow, lane, STRAIGHT)
    assert governs_way(arrow, lane, None)  # the path ends on the lane
    # way on unknown: only a light governing every successor counts
    assert not governs_way(arrow, lane, None, ends_governed=False)
    every = dataclasses.replace(arrow, stops=(LaneStop("1", LINE_X_M, (STRAIGHT, LEFT, RIGHT)),))
    assert governs_way(every, lane, None, ends_governed=False)
    # a lane that is not a successor (a lane change off the stop lane): the stop applies
    assert governs_way(arrow, lane, "5")
    assert not governs_way(arrow, road_map.lane(STRAIGHT), None)  # no stop there


def test_the_forecast_chain_ends_at_the_fork_and_keeps_only_lights_of_every_way(
    road_map: RoadMap,
) -> None:
    # lanelet 1 forks three ways: its chain ends there, the way on unknown
    assert chain_light_stops(road_map, ("1",)) == ()
    assert chain_light_stops(road_map, (LEFT, AFTER[LEFT])) == ()
    assert chain_light_stops(dataclasses.replace(road_map, traffic_lights=(
        TrafficLight("10", (LaneStop("1", LINE_X_M),), road_map.traffic_light("10").cycle),
    )), ("1",)) == (ARROW,)  # fmt: skip


def _car_at(x_m: float, speed_mps: float) -> Boxes3D:
    return Boxes3D(
        np.array([[x_m, 0.0, 0.75]]),
        np.array([[4.5, 1.85, 1.5]]),
        np.zeros(1),
        "world",
        label=np.array([int(ObjectClass.CAR)]),
        velocity_mps=np.array([[speed_mps, 0.0]]),
    )


def test_an_agent_at_a_red_left_arrow_is_forecast_to_drive_on(road_map: RoadMap) -> None:
    kwargs = dict(comfort_decel_mps2=3.0, stop_decel_mps2=6.0, max_decel_mps2=8.0, stop_gap_m=2.0)
    car = _car_at(30.0, 10.0)  # its front 27.75 m before the line
    lights = (("10", "red"), ("11", "green"))
    # it may go straight past the red arrow: not clipped
    assert light_stop_travel_m(car, road_map, lights, 4.0, **kwargs) == {}  # type: ignore[arg-type]
    # a plain red (every way out) stops it at the line: travel = 60 - (30 + 2.25)
    plain = dataclasses.replace(road_map, traffic_lights=(
        TrafficLight("10", (LaneStop("1", LINE_X_M),), road_map.traffic_light("10").cycle),
    ))  # fmt: skip
    travel = light_stop_travel_m(car, plain, lights, 4.0, **kwargs)  # type: ignore[arg-type]
    assert travel == {0: pytest.approx(LINE_X_M - 32.25)}


@pytest.mark.parametrize(
    ("next_lanes", "error", "words"),
    [
        ("3", TypeError, "must be a tuple of lane ids or None"),
        ((3,), TypeError, "non-empty str lane ids"),
        (("",), TypeError, "non-empty str lane ids"),
        (("2", "2"), ValueError, "repeats a lane"),
        (("1",), ValueError, "names the stop's own lane '1'"),
    ],
)
def test_lane_stop_checks_its_ways(next_lanes: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        LaneStop("1", 10.0, next_lanes)  # type: ignore[arg-type]


def test_lane_stop_governs() -> None:
    assert LaneStop("1", 1.0).governs("2") and LaneStop("1", 1.0).governs(None)
    arrow = LaneStop("1", 1.0, ["3"])  # a list is kept as a tuple
    assert arrow.next_lanes == ("3",)
    assert arrow.governs("3") and not arrow.governs("2") and arrow.governs(None)
    assert not LaneStop("1", 1.0, ()).governs("2")
