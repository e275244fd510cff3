"""A red light too close for the usual 6 m/s^2 stop but stoppable at the line within the
planners' braking limit (9 m/s^2): both planners now stop for it (before, they drove through
without braking); a red that cannot be stopped for at the line even at the limit is still
driven through. Rule cases hand-computed (front offset 4.15 m, stop gap 2 m)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.traffic_lights import LightStopRule, RouteLightStop
from tests.planning.test_traffic_light_stops import (
    FRONT_M,
    cycle,
    drive,
    ego_at,
    front_x,
    straight_with_light,
)

PLANNERS = (PDMPlanner, IDMPlanner)
RED = (("tl", "red"),)
V_MPS = 13.89  # 50 km/h: v^2 = 192.93


def hard_rule(hard_stop_decel_mps2: float | None = 9.0) -> LightStopRule:
    return LightStopRule(
        (RouteLightStop("tl", "lane", 100.0),),
        FRONT_M,
        comfort_decel_mps2=3.0,
        stop_decel_mps2=6.0,
        max_decel_mps2=9.0,
        stop_gap_m=2.0,
        hard_stop_decel_mps2=hard_stop_decel_mps2,
    )


def at(room_m: float) -> float:
    """The rear axle's station that leaves ``room_m`` from the front to the line at 100 m."""
    return 100.0 - room_m - FRONT_M


def test_a_red_stoppable_at_the_line_within_the_limit_is_stopped_for() -> None:
    # 11.85 m of room: the stop point 2 m before the line needs 192.93 / 19.7 = 9.79 > 9, the
    # line itself 192.93 / 23.7 = 8.14 <= 9: stop at 9 m/s^2, 192.93 / 18 = 10.72 m ahead,
    # 11.85 - 10.72 = 1.13 m before the line
    decision = hard_rule().step(RED, at(11.85), V_MPS)
    assert decision.light_id == "tl" and decision.station_m == 100.0
    assert decision.decel_mps2 == pytest.approx(9.0)
    assert decision.stop_gap_m == pytest.approx(11.85 - V_MPS**2 / 18.0)
    # the rule without it (the simulator's agents, the forecast of other cars) goes on
    assert hard_rule(None).step(RED, at(11.85), V_MPS).committed == ("tl",)
    # the usual stop keeps its gap (None: the rule's 2 m): 30 m needs 192.93 / 56 = 3.45
    usual = hard_rule().step(RED, at(30.0), V_MPS)
    assert usual.stop_gap_m is None and usual.decel_mps2 == pytest.approx(V_MPS**2 / 56.0)


def test_a_red_too_close_to_stop_at_the_line_is_driven_through() -> None:
    # 10.5 m: 192.93 / 21 = 9.19 > 9 even at the line: go on (stopping in the junction is worse)
    decision = hard_rule().step(RED, at(10.5), V_MPS)
    assert decision.station_m is None and decision.committed == ("tl",)
    # a yellow is still stopped for only comfortably
    yellow = hard_rule().step((("tl", "yellow"),), at(11.85), V_MPS)
    assert yellow.station_m is None and yellow.committed == ("tl",)


def test_a_hard_stop_decided_holds_to_the_line_at_the_braking_limit() -> None:
    r = hard_rule(8.0)
    assert r.step(RED, at(12.5), V_MPS).station_m == 100.0  # 192.93 / 25 = 7.72 <= 8
    # a tick later, braking lagging: 11.0 m at 13.5 m/s needs 182.25 / 22 = 8.28 > 8 at the
    # line, but held it holds up to 9 m/s^2 (and 0.5 m past the line): at 9 m/s^2 it rests
    # 182.25 / 18 = 10.125 m ahead, 0.875 m before the line
    held = r.step(RED, at(11.0), 13.5)
    assert held.station_m == 100.0 and held.decel_mps2 == pytest.approx(9.0)
    assert held.stop_gap_m == pytest.approx(0.875)
    assert hard_rule(8.0).step(RED, at(11.0), 13.5).committed == ("tl",)  # fresh: go
    assert r.step(RED, at(9.0), 13.5).committed == ("tl",)  # 182.25 / 19 = 9.59 > 9: go


def test_the_hard_limit_must_lie_between_the_stop_and_the_braking_limits() -> None:
    for bad in (5.0, 9.5):
        with pytest.raises(ValueError, match=r"hard_stop_decel_mps2 = .* must lie between"):
            hard_rule(bad)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_red_11_85_m_ahead_at_50_kph_is_stopped_for(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    line_x = FRONT_M + 11.85
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, V_MPS), 40)
    front = front_x(history)
    assert np.all(front < line_x) and history.ego_speed_mps[-1] < 0.05
    assert np.min(history.ego_accel_mps2) < -8.0  # braking at the limit
    assert all(d.light_stop == "tl" and d.lights_committed == () for d in debugs)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_red_10_m_ahead_at_50_kph_is_driven_through_without_braking(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    line_x = FRONT_M + 10.0  # 192.93 / 20 = 9.65 > 9 at the line
    road = straight_with_light(line_x, cycle(("red", 100.0)))
    history, debugs = drive(planner_cls, road, ["road_0"], ego_at(0.0, V_MPS), 20)
    assert front_x(history)[-1] > line_x + 5.0
    assert np.min(history.ego_accel_mps2) > -0.5
    assert debugs[0].lights_committed == ("tl",)
