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
    duration_problem,
    offset_problem,
    period_problem,
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
    ("phases", "offset_s", "tick", "state"),
    [
        # yellow 2.9 s, red 7.1 s: red from 32.9 s (in float seconds, 329 * 0.1 = 32.900000000000006
        # mod 10.0 = 2.9000000000000057 was read as still before 2.9, yellow)
        ((("yellow", 2.9), ("red", 7.1)), 0.0, 329, "red"),
        ((("yellow", 2.9), ("red", 7.1)), 0.0, 328, "yellow"),
        # green 10 s, yellow 2.9 s, red 7.1 s: red from 12.9 s, i.e. from 32.9 s (tick 329)
        ((("green", 10.0), ("yellow", 2.9), ("red", 7.1)), 0.0, 329, "red"),
        # ... and with the offset 2.5 s, from 35.4 s (tick 354)
        ((("green", 10.0), ("yellow", 2.9), ("red", 7.1)), 2.5, 354, "red"),
        ((("green", 10.0), ("yellow", 2.9), ("red", 7.1)), 2.5, 353, "yellow"),
        # one-tick phases: green at even ticks, red at odd ones (tick 5 was read as green)
        ((("green", 0.1), ("red", 0.1)), 0.0, 5, "red"),
        ((("green", 0.1), ("red", 0.1)), 0.0, 6, "green"),
    ],
)
def test_a_phase_starts_at_its_tick(
    phases: tuple[tuple[str, float], ...], offset_s: float, tick: int, state: str
) -> None:
    cycle = SignalCycle(tuple(SignalPhase(s, d) for s, d in phases), offset_s)
    assert cycle.state_at(tick * 0.1) == state  # seconds: rounded to the ns
    assert cycle.state_at_ns(tick * 100_000_000) == state
    assert SIGNAL_STATES[int(cycle.codes_at_ns(np.array([tick * 100_000_000]))[0])] == state
    light = TrafficLight("L", (LaneStop("road_0", 1.0),), cycle)
    assert light.state_at_ns(tick * 100_000_000) == state
    assert light.codes_at_ns([tick * 100_000_000]).tolist() == [SIGNAL_STATES.index(state)]


def test_ns_times_and_the_rounded_cycle() -> None:
    cycle = SignalCycle((SignalPhase("green", 0.1), SignalPhase("red", 0.2)), -0.1)
    assert (cycle.period_ns, cycle.offset_ns, cycle.period_s) == (300_000_000, -100_000_000, 0.3)
    # green in [-0.1, 0.0) s, red in [0.0, 0.2) s, green again from 0.2 s
    times_ns = np.array([-100_000_000, -1, 0, 199_999_999, 200_000_000])
    assert cycle.codes_at_ns(times_ns).tolist() == [2, 2, 4, 4, 2]
    assert TrafficLight("U", (LaneStop("road_0", 1.0),)).codes_at_ns([0, 1]).tolist() == [0, 0]
    with pytest.raises(ValueError, match="finite number of seconds"):
        cycle.codes_at(np.nan)
    with pytest.raises(ValueError, match="at least 1 ns"):
        SignalPhase("red", 1e-10)


def test_the_limits_in_words_and_the_cycle_refuses_past_them() -> None:
    """One place for the limits the scenario and OpenSCENARIO checks apply: a phase rounds to
    >= 1 ns, a phase and a period are under 2**62 ns (4.61e9 s), an offset within +- that.
    Past them SignalPhase/SignalCycle raise ValueError (1e300 s was an OverflowError)."""
    limit_s = 2**62 / 1e9
    assert duration_problem(1e-9) is None and duration_problem(0.6e-9) is None
    assert "at least 1 ns" in str(duration_problem(0.4e-9))
    assert "> 0 s" in str(duration_problem(0.0)) and "> 0 s" in str(duration_problem(np.inf))
    assert duration_problem(4.6e9) is None
    assert "under 4.61e+09 s" in str(duration_problem(limit_s))
    assert "under 4.61e+09 s" in str(duration_problem(1e300))
    assert period_problem([2e9, 2e9]) is None
    assert "the period must be under" in str(period_problem([3e9, 3e9]))
    assert offset_problem(-4.6e9) is None and offset_problem(4.6e9) is None
    for bad in (limit_s, -limit_s, 1e300, -1e300):
        assert "within +-4.61e+09 s" in str(offset_problem(bad))
    assert "finite" in str(offset_problem(np.nan))
    for make in (
        lambda: SignalPhase("red", 1e300),
        lambda: SignalPhase("red", 1e10),
        lambda: SignalCycle((SignalPhase("red", 1.0),), 1e300),
        lambda: SignalCycle((SignalPhase("red", 3e9), SignalPhase("green", 3e9))),
    ):
        with pytest.raises(ValueError):
            make()
    # the largest accepted offset still works out exactly in ns
    cycle = SignalCycle((SignalPhase("red", 1.0), SignalPhase("green", 1.0)), 4_000_000_000.0)
    assert cycle.state_at(4_000_000_000.0) == "red" and cycle.state_at(1.5) == "green"


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(st.integers(1, 400), min_size=1, max_size=4),
    offset_steps=st.integers(-1000, 1000),
    ticks=st.lists(st.integers(-3000, 3000), min_size=1, max_size=20),
)
def test_the_state_at_a_tick_is_the_integer_step_rule(
    steps: list[int], offset_steps: int, ticks: list[int]
) -> None:
    """Durations and offset in whole 0.1 s steps (given as decimal seconds, as a YAML file
    or CommonRoad's reader gives them): the state at tick k, by seconds or by ns, is
    CommonRoad's rule in integer steps."""
    states = ("green", "yellow", "red", "red_yellow")
    cycle = SignalCycle(
        tuple(SignalPhase(states[i % 4], n / 10) for i, n in enumerate(steps)), offset_steps / 10
    )
    ends = np.cumsum(steps)
    for k in ticks:
        into = (k - offset_steps) % int(ends[-1])
        expected = states[int(np.searchsorted(ends, into, side="right")) % 4]
        assert cycle.state_at(k * 0.1) == expected
        assert cycle.state_at_ns(k * 100_000_000) == expected
    np.testing.assert_array_equal(
        cycle.codes_at(np.array(ticks) * 0.1), cycle.codes_at_ns(np.array(ticks) * 100_000_000)
    )


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
