"""The planners' policy for a light whose state is unknown (``PDMParams.unknown_light``,
``LightStopRule.unknown_light``): ``go`` (the default, unchanged) or ``yellow`` (stop when
it can comfortably, else go), by hand-computed decelerations and in closed loop."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.config import from_mapping
from drivestack.planning.control import TrajectoryTracker
from drivestack.planning.pdm import IDMPlanner, PDMParams, PDMPlanner
from drivestack.planning.traffic_lights import LightStopRule, RouteLightStop
from drivestack.sim.runner import SimHistory, run_closed_loop
from drivestack.sim.world import World
from tests.planning.test_traffic_light_stops import (
    FRONT_M,
    at,
    ego_at,
    front_x,
    straight_with_light,
)

PLANNERS = (PDMPlanner, IDMPlanner)


def rule(policy: str, *stations: float) -> LightStopRule:
    stops = tuple(RouteLightStop(f"tl{i}", "lane", s) for i, s in enumerate(stations))
    return LightStopRule(stops, FRONT_M, 3.0, 6.0, 9.0, stop_gap_m=2.0, unknown_light=policy)


def test_the_yellow_policy_stops_for_an_unknown_light_only_within_the_comfortable_decel() -> None:
    unknown = (("tl0", "unknown"),)
    # 10 m/s, 20 m of room, the stop point 2 m before the line: 100 / 36 = 2.78 <= 3: stop
    decision = rule("yellow", 100.0).step(unknown, at(20.0), 10.0)
    assert (decision.station_m, decision.light_id) == (100.0, "tl0")
    assert decision.decel_mps2 == 3.0  # max(2.78, comfort)
    # a light not listed at all is unknown too
    assert rule("yellow", 100.0).step((), at(20.0), 10.0).station_m == 100.0
    # 15 m of room: 100 / 26 = 3.85 > 3 (though <= 6, a red's limit): it goes on, committed
    decision = rule("yellow", 100.0).step(unknown, at(15.0), 10.0)
    assert (decision.station_m, decision.committed) == (None, ("tl0",))
    # green, off: go under either policy
    for state in ("green", "off"):
        assert rule("yellow", 100.0).step((("tl0", state),), at(20.0), 10.0).station_m is None


def test_the_default_policy_goes_at_an_unknown_light() -> None:
    assert LightStopRule((), FRONT_M, 3.0, 6.0, 9.0).unknown_light == "go"
    assert PDMParams().unknown_light == "go"
    for lights in ((("tl0", "unknown"),), ()):
        decision = rule("go", 100.0).step(lights, at(40.0), 10.0)
        assert (decision.station_m, decision.committed) == (None, ())


def test_a_stop_decided_at_an_unknown_light_holds_and_ends_when_it_reads_green() -> None:
    r = rule("yellow", 100.0)
    unknown = (("tl0", "unknown"),)
    assert r.step(unknown, at(20.0), 10.0).station_m == 100.0
    # braking lags: 10 m on at 9.5 m/s needs 90.25 / 16 = 5.6 > 3: the decision holds (<= 9)
    assert r.step(unknown, at(10.0), 9.5).station_m == 100.0
    assert rule("yellow", 100.0).step(unknown, at(10.0), 9.5).station_m is None  # afresh: go
    assert r.step((("tl0", "green"),), at(10.0), 9.5).station_m is None
    assert r.step(unknown, at(10.0), 9.5).station_m is None  # forgotten at green


def test_a_bad_policy_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"LightStopRule\.unknown_light must be one of go, yellow"):
        rule("stop", 100.0)
    with pytest.raises(ValueError, match=r"PDMParams\.unknown_light .*'red'"):
        PDMParams(unknown_light="red")
    mapped = from_mapping(PDMParams, {"unknown_light": "yellow"}, path="planner.yaml")
    assert mapped.unknown_light == "yellow"


def drive(
    planner_cls: type[PDMPlanner], line_x_m: float, speed_mps: float, policy: str
) -> SimHistory:
    """A light with no cycle (the world reports it unknown) ``line_x_m`` ahead on road_0."""
    road = straight_with_light(line_x_m, None)
    world = World(road, ego_at(0.0, speed_mps), [])
    planner = planner_cls(road, ["road_0"], world.vehicle, PDMParams(unknown_light=policy))
    tracker = TrajectoryTracker(vehicle=world.vehicle)
    return run_closed_loop(world, planner, tracker, 120)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_the_cautious_ego_stops_for_an_unreadable_light_it_can_stop_for(
    planner_cls: type[PDMPlanner],
) -> None:
    line_x = FRONT_M + 40.0  # 10 m/s, 38 m to the stop point: 1.3 m/s^2
    history = drive(planner_cls, line_x, 10.0, "yellow")
    front = front_x(history)
    assert np.all(front < line_x) and 0.5 <= line_x - front[-1] <= 3.0
    assert np.all(history.ego_speed_mps[-20:] < 0.05)  # stopped over the last 2 s
    # the default policy drives on through it
    assert front_x(drive(planner_cls, line_x, 10.0, "go"))[-1] > line_x + 30.0


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_the_cautious_ego_goes_through_an_unreadable_light_it_cannot_stop_for(
    planner_cls: type[PDMPlanner],
) -> None:
    line_x = FRONT_M + 12.0  # 13 m/s, 10 m to the stop point: 8.45 m/s^2 > 3
    history = drive(planner_cls, line_x, 13.0, "yellow")
    assert front_x(history)[-1] > line_x + 30.0
    assert np.min(np.diff(history.ego_speed_mps)) / history.dt_s > -1.0  # no braking for it
