"""Path agents of ``drivestack.sim.agents``: a lateral offset is to the left of the path, a
lane change blends its offset along a cosine and turns the agent by the slip towards it, a
scripted speed event stops exactly at its target, and ``nearest_ahead`` finds leaders in the
agent's own (offset) corridor and takes their speed along the path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.sim.agents import AgentSpec, LateralShift, SpeedEvent, Traffic, nearest_ahead
from drivestack.structures.labels import ObjectClass

CAR = (4.5, 1.8, 1.5)
FAR_EGO = np.array([1e6, 1e6, 0.75, 4.5, 1.8, 1.5, 0.0])  # the ego out of everyone's way
EAST = np.array([[0.0, 0.0], [200.0, 0.0]])
NORTH = np.array([[0.0, 0.0], [0.0, 100.0]])


def _scripted(path: np.ndarray, **kwargs: object) -> AgentSpec:
    return AgentSpec("a", ObjectClass.CAR, CAR, "scripted", path_m=path, **kwargs)  # type: ignore[arg-type]


def test_a_positive_offset_places_the_agent_left_of_a_northbound_path() -> None:
    traffic = Traffic([_scripted(NORTH, station_m=10.0, offset_m=2.0)])
    st = traffic.state
    # heading h = pi/2 (north), left normal (-sin h, cos h) = (-1, 0): station 10 and
    # offset 2 put the centre at (0, 10) + 2 * (-1, 0) = (-2, 10), facing north
    assert (st.x_m[0], st.y_m[0]) == pytest.approx((-2.0, 10.0), abs=1e-12)
    assert st.yaw_rad[0] == pytest.approx(math.pi / 2)
    assert st.offset_m[0] == 2.0


def _lane_changer() -> Traffic:
    """Eastbound at a constant 10 m/s (no speed event), shifting to 3.5 m left over 4 s from
    t = 0."""
    shift = LateralShift(time_s=0.0, duration_s=4.0, offset_m=3.5)
    return Traffic([_scripted(EAST, speed_mps=10.0, lateral_shifts=(shift,))])


def test_a_lane_change_blends_the_offset_along_a_cosine() -> None:
    traffic = _lane_changer()
    st = traffic.step(1.0, FAR_EGO, 0.0)
    # t = 1 s of 4 s: u = 0.25, offset = 3.5 * 0.5 * (1 - cos(pi / 4)) = 1.75 * 0.292893 =
    # 0.512563 m (a linear blend would be 3.5 * 0.25 = 0.875 m); the path runs along +x, so
    # the offset is the agent's y
    assert st.offset_m[0] == pytest.approx(0.512563, abs=1e-6)
    assert st.y_m[0] == pytest.approx(0.512563, abs=1e-6)
    assert st.x_m[0] == pytest.approx(10.0)  # 1 s at 10 m/s


def test_a_lane_changing_agent_turns_by_its_slip_towards_the_new_offset() -> None:
    traffic = _lane_changer()
    traffic.step(1.0, FAR_EGO, 0.0)
    st = traffic.step(1.0, FAR_EGO, 0.0)
    # The yaw is the path heading (0) plus the slip atan2(offset(t + 0.1) - offset(t), ds),
    # ds = speed * 0.1 s = 1.0 m. At t = 2 s (u = 0.5): offset 1.75 * (1 - cos(pi / 2)) =
    # 1.75; at 2.1 s (u = 0.525): 1.75 * (1 - cos(0.525 pi)) = 1.75 * 1.078459 = 1.887303.
    # slip = atan2(0.137303, 1.0) = 0.136450 rad (the continuous lateral rate
    # 3.5 * (pi / 8) * sin(pi / 2) = 1.3744 m/s at 10 m/s gives atan2(1.3744, 10) = 0.136589;
    # the code takes the 0.1 s forward difference)
    assert st.offset_m[0] == pytest.approx(1.75, abs=1e-9)
    assert st.yaw_rad[0] == pytest.approx(0.136450, abs=1e-5)


@pytest.mark.parametrize("start_mps", [9.9, 10.1])
def test_a_speed_event_reaches_its_target_exactly_without_overshoot(start_mps: float) -> None:
    event = SpeedEvent(time_s=0.0, accel_mps2=3.0, target_speed_mps=10.0)
    traffic = Traffic([_scripted(EAST, speed_mps=start_mps, speed_events=(event,))])
    # 0.1 m/s to go in a 0.1 s step: the rate is min(3, 0.1 / 0.1) = 1 m/s^2, landing on
    # 10.0 m/s (3 m/s^2 for the whole step would end at 10.2 / 9.8 m/s)
    assert traffic.step(0.1, FAR_EGO, 0.0).speed_mps[0] == pytest.approx(10.0, abs=1e-9)
    # and there it stays
    assert traffic.step(0.1, FAR_EGO, 0.0).speed_mps[0] == pytest.approx(10.0, abs=1e-9)


def _ahead(offset_m: float, lateral_m: float, yaw_rad: float = 0.0) -> tuple[float, float]:
    """``nearest_ahead`` on the eastbound path for an agent at station 0 and ``offset_m``,
    with one car 20 m ahead at ``lateral_m`` driving 8 m/s at ``yaw_rad``."""
    return nearest_ahead(
        EAST,
        0.0,
        offset_m,
        CAR,
        np.array([20.0]),
        np.array([lateral_m]),
        np.array([yaw_rad]),
        np.array([8.0]),
        np.array([[4.5, 1.8]]),
    )


def test_the_leader_corridor_follows_the_agents_own_offset() -> None:
    # the corridor is |lateral - offset| < (1.8 + 1.8) / 2 + 0.3 = 2.1 m
    # an agent 3.5 m left of the path: a car on the path centre is 3.5 m to its side, none ahead
    assert _ahead(offset_m=3.5, lateral_m=0.0) == (math.inf, 0.0)
    # a car in its own (left) lane is its leader: gap 20 - (4.5 + 4.5) / 2 = 15.5 m, at 8 m/s
    assert _ahead(offset_m=3.5, lateral_m=3.5) == pytest.approx((15.5, 8.0))


def test_a_leaders_speed_is_taken_along_the_path() -> None:
    # a car crossing the path (yaw pi/2 on an eastbound path) moves 8 cos(pi/2) = 0 along it
    gap, speed = _ahead(offset_m=0.0, lateral_m=0.0, yaw_rad=math.pi / 2)
    assert gap == pytest.approx(15.5) and speed == pytest.approx(0.0, abs=1e-9)
    # one at 60 degrees to it: 8 cos(pi/3) = 4 m/s
    assert _ahead(offset_m=0.0, lateral_m=0.0, yaw_rad=math.pi / 3)[1] == pytest.approx(4.0)
