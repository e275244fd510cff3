"""Traffic-light structures: cycle states by hand, RoadMap stop checks, Observation states."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.world import Observation
from drivestack.structures import Boxes3D, EgoState
from drivestack.structures.traffic_light import (
    SIGNAL_STATES,
    LaneStop,
    SignalCycle,
    SignalPhase,
    TrafficLight,
    state_codes,
)

# CommonRoad's own test cycle: green 2, yellow 3, red 2 (period 7)
PHASES = (SignalPhase("green", 2.0), SignalPhase("yellow", 3.0), SignalPhase("red", 2.0))


@pytest.mark.parametrize(
    ("offset_s", "time_s", "state"),
    [
        (0.0, 8.0, "green"),  # 8 mod 7 = 1
        (3.0, 5.0, "yellow"),  # (5 - 3) mod 7 = 2: yellow starts at its own start time
        (10.0, 12.0, "yellow"),
        (0.0, 4.999, "yellow"),
        (0.0, 5.0, "red"),
        (0.0, 6.999, "red"),
        (0.0, 7.0, "green"),
        (0.0, -1.0, "red"),  # before the offset the cycle runs on backwards: -1 mod 7 = 6
    ],
)
def test_cycle_state_follows_commonroad_rule(offset_s: float, time_s: float, state: str) -> None:
    cycle = SignalCycle(PHASES, offset_s=offset_s)
    into = (time_s - offset_s) % 7.0
    by_hand = "green" if into < 2 else "yellow" if into < 5 else "red"
    assert by_hand == state
    assert cycle.state_at(time_s) == state


def test_peach_light_cycle_by_hand() -> None:
    # USA_Peach light 43918: green 40 s, yellow 3 s, red 57 s, offset 59 s (time steps / 10)
    cycle = SignalCycle(
        (SignalPhase("green", 40.0), SignalPhase("yellow", 3.0), SignalPhase("red", 57.0)), 59.0
    )
    assert cycle.period_s == 100.0
    # t = 0: (0 - 59) mod 100 = 41 -> yellow until 43, i.e. until t = 2 s, then red
    assert cycle.state_at(0.0) == "yellow"
    assert cycle.state_at(1.9) == "yellow"
    assert cycle.state_at(2.0) == "red"
    assert cycle.state_at(58.9) == "red"
    assert cycle.state_at(59.0) == "green"


def test_codes_match_states_and_unknown_without_cycle() -> None:
    cycle = SignalCycle(PHASES)
    times = np.array([[0.0, 2.5], [5.5, 7.5]])
    codes = cycle.codes_at(times)
    assert codes.dtype == np.int8 and codes.shape == (2, 2)
    assert [SIGNAL_STATES[c] for c in codes.ravel()] == ["green", "yellow", "red", "green"]
    light = TrafficLight("L", (LaneStop("road_0", 10.0),))
    assert light.state_at(3.0) == "unknown"
    assert light.codes_at(times).tolist() == [[0, 0], [0, 0]]
    assert state_codes(["red", "off"]).tolist() == [4, 1]


@settings(max_examples=60, deadline=None)
@given(
    durations=st.lists(st.floats(0.1, 50.0), min_size=1, max_size=5),
    offset=st.floats(-100.0, 100.0),
    time_s=st.floats(-500.0, 500.0),
)
def test_cycle_is_periodic(durations: list[float], offset: float, time_s: float) -> None:
    states = ("green", "yellow", "red", "red_yellow", "off")
    cycle = SignalCycle(
        tuple(SignalPhase(states[i % 5], d) for i, d in enumerate(durations)), offset
    )
    assert cycle.state_at(time_s) in states
    # one period later, the same phase (away from phase boundaries, where rounding decides)
    ends = np.cumsum(durations)
    into = (time_s - offset) % ends[-1]
    if np.min(np.abs(np.concatenate([[0.0], ends]) - into)) > 1e-6 * max(1.0, abs(time_s)):
        assert cycle.state_at(time_s + cycle.period_s) == cycle.state_at(time_s)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SignalPhase("purple", 1.0), "unknown signal state 'purple'"),
        (lambda: SignalPhase("red", 0.0), "duration_s must be positive"),
        (lambda: SignalCycle(()), "at least one phase"),
        (lambda: LaneStop("a", -1.0), "station_m must be >= 0"),
        (
            lambda: TrafficLight("L", (LaneStop("a", 1.0), LaneStop("a", 2.0))),
            "more than one stop on lane",
        ),
        (lambda: state_codes(["red", "blue"]), "unknown signal state 'blue'"),
    ],
)
def test_bad_values_are_named(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_road_map_checks_light_stops() -> None:
    road = straight_road(length_m=200.0)
    light = TrafficLight("L1", (LaneStop("road_0", 120.0),), SignalCycle(PHASES))
    mapped = replace(road, traffic_lights=(light,))
    assert mapped.traffic_light("L1") is mapped.traffic_lights[0]
    assert mapped.light_stops("road_0") == [(mapped.traffic_lights[0], 120.0)]
    assert mapped.light_stops("road_1") == []
    # a stop just past the end (rounding) moves to the end; further is refused
    end = replace(road, traffic_lights=(TrafficLight("E", (LaneStop("road_0", 200.3),)),))
    assert end.light_stops("road_0")[0][1] == pytest.approx(200.0)
    with pytest.raises(ValueError, match="beyond the end of lane 'road_0'"):
        replace(road, traffic_lights=(TrafficLight("E", (LaneStop("road_0", 201.0),)),))
    with pytest.raises(ValueError, match="unknown lane 'nope'"):
        replace(road, traffic_lights=(TrafficLight("E", (LaneStop("nope", 1.0),)),))
    with pytest.raises(ValueError, match="duplicate traffic light id 'L1'"):
        replace(road, traffic_lights=(light, light))
    with pytest.raises(KeyError, match="no traffic light 'X'"):
        mapped.traffic_light("X")


def _observation(lights: object) -> Observation:
    ego = EgoState(0, 0.0, 0.0, 0.0, speed_mps=1.0, frame="world")
    return Observation(0, ego, Boxes3D.empty(frame="world", timestamp_ns=0), (), lights)  # type: ignore[arg-type]


def test_observation_light_states() -> None:
    obs = _observation((("L1", "red"), ("L2", "green")))
    assert obs.light_state("L1") == "red"
    assert obs.light_state("L3") == "unknown"
    assert _observation(()).traffic_lights == ()
    with pytest.raises(ValueError, match="unknown signal state 'blue'"):
        _observation((("L1", "blue"),))
    with pytest.raises(ValueError, match="light ids repeated: \\['L1'\\]"):
        _observation((("L1", "red"), ("L1", "green")))
    with pytest.raises(TypeError, match="tuple of \\(light_id, state\\) str pairs"):
        _observation([("L1", "red")])
