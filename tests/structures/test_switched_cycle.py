"""A cycle switched during a run (``SignalCycle.switches``, :class:`SignalSwitch`): a held
state and a cycle started over at a phase, by hand and far past any run's end; ties (the
later wins); the state at every tick against the piecewise rule (hypothesis); refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.structures.traffic_light import (
    SIGNAL_STATES,
    SignalCycle,
    SignalPhase,
    SignalSwitch,
)

# green 2 s, red 3 s, the first phase starting at 1 s: red on [0, 1)
PHASES = (SignalPhase("green", 2.0), SignalPhase("red", 3.0))
BASE = SignalCycle(PHASES, offset_s=1.0)


def _shown(cycle: SignalCycle, times_s: list[float]) -> list[str]:
    return [SIGNAL_STATES[c] for c in cycle.codes_at(np.array(times_s))]


def test_by_hand() -> None:
    # yellow held from 4.5 s; at 7 s the cycle starts over with its red phase (index 1)
    cycle = SignalCycle(
        PHASES, 1.0, (SignalSwitch(4.5, state="yellow"), SignalSwitch(7.0, phase=1))
    )
    times = [0.0, 0.999, 1.0, 2.999, 3.0, 4.499, 4.5, 6.999, 7.0, 9.999, 10.0, 11.999, 12.0]
    assert _shown(cycle, times) == [
        "red",  # the base cycle: red on [0, 1)
        "red",
        "green",  # [1, 3)
        "green",
        "red",  # [3, 4.5): cut short by the switch
        "red",
        "yellow",  # held [4.5, 7)
        "yellow",
        "red",  # the red phase [7, 10), then green [10, 12), red [12, 15), ...
        "red",
        "green",
        "green",
        "red",
    ]
    # 1e6 s on the cycle from 7 s: (1e6 - 7 + 2) mod 5 = 0 -> green starts; 1e6 + 2 s: red
    assert cycle.state_at(1.0e6) == "green" and cycle.state_at(1.0e6 + 2.0) == "red"
    # a tick in ns is read as it is; a scalar gives a scalar code, shapes are kept
    assert (
        cycle.state_at_ns(7_000_000_000) == "red" and cycle.state_at_ns(6_999_999_999) == "yellow"
    )
    assert cycle.codes_at(np.zeros((2, 3))).shape == (2, 3)


def test_a_held_state_holds_for_ever() -> None:
    cycle = SignalCycle(PHASES, 0.0, (SignalSwitch(12.0, state="red"),))
    far = np.array([12.0, 100.0, 3600.0, 1.0e6, 4.0e9])
    assert (cycle.codes_at(far) == SIGNAL_STATES.index("red")).all()
    assert cycle.state_at(11.999) == "green"  # 11.999 mod 5 = 1.999: green until then


def test_switches_at_one_time_the_later_wins() -> None:
    cycle = SignalCycle(
        PHASES, 1.0, (SignalSwitch(0.0, phase=0), SignalSwitch(0.0, state="yellow"))
    )
    assert _shown(cycle, [-1.0, 0.0, 50.0]) == ["red", "yellow", "yellow"]  # before 0: base
    cycle = SignalCycle(
        PHASES, 1.0, (SignalSwitch(2.0, state="yellow"), SignalSwitch(2.0, phase=1))
    )
    assert _shown(cycle, [1.999, 2.0, 4.999, 5.0]) == ["green", "red", "red", "green"]


def test_without_switches_the_cycle_is_as_before() -> None:
    t = np.arange(-100, 400) / 10
    plain = SignalCycle(PHASES, 1.0)
    late = SignalCycle(PHASES, 1.0, (SignalSwitch(1.0e9, state="off"),))
    np.testing.assert_array_equal(plain.codes_at(t), late.codes_at(t))


@pytest.mark.parametrize(
    "switches, error, match",
    [
        ((SignalSwitch(2.0, "red"), SignalSwitch(1.0, "red")), ValueError, r"switches\[1\]\.at_s"),
        ((SignalSwitch(1.0, phase=2),), ValueError, r"switches\[0\]\.phase must index"),
        ((("red", 1.0),), TypeError, r"switches\[0\] must be a SignalSwitch"),
    ],
)
def test_cycle_refusals(switches: tuple[object, ...], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        SignalCycle(PHASES, 0.0, switches)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"at_s": -1.0, "state": "red"}, "must be a finite time >= 0 s"),
        ({"at_s": float("nan"), "state": "red"}, "finite"),
        ({"at_s": float("inf"), "state": "red"}, "finite"),
        ({"at_s": 1.0e10, "state": "red"}, "under 4.61e"),
        ({"at_s": 1.0}, "exactly one of state"),
        ({"at_s": 1.0, "state": "red", "phase": 0}, "exactly one of state"),
        ({"at_s": 1.0, "state": "blue"}, "unknown signal state 'blue'"),
        ({"at_s": 1.0, "phase": -1}, "phase must be an int >= 0"),
        ({"at_s": 1.0, "phase": True}, "phase must be an int >= 0"),
    ],
)
def test_switch_refusals(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SignalSwitch(**kwargs)  # type: ignore[arg-type]


_STATES = st.sampled_from(SIGNAL_STATES)
_PHASES = st.lists(st.tuples(_STATES, st.integers(1, 60)), min_size=1, max_size=4).map(
    lambda phases: tuple(SignalPhase(s, k / 10) for s, k in phases)
)


def _piecewise(
    phases: tuple[SignalPhase, ...], offset_s: float, switches: list[SignalSwitch], t: float
) -> str:
    """The rule by hand: the last switch at or before ``t`` (none: the base cycle) holds its
    state, or shows the cycle whose phase ``phase`` starts at its time."""
    shown = [w for w in switches if w.at_s <= t]
    if not shown:
        return SignalCycle(phases, offset_s).state_at(t)
    last = shown[-1]
    if last.state is not None:
        return last.state
    assert last.phase is not None
    start_s = sum(p.duration_s for p in phases[: last.phase])
    return SignalCycle(phases, last.at_s - start_s).state_at(t)


@settings(max_examples=80, deadline=None)
@given(
    phases=_PHASES,
    offset=st.integers(-300, 300),
    raw=st.lists(
        st.tuples(st.integers(0, 300), _STATES, st.integers(0, 3), st.booleans()), max_size=5
    ),
    data=st.data(),
)
def test_matches_the_piecewise_rule_at_every_tick(
    phases: tuple[SignalPhase, ...],
    offset: int,
    raw: list[tuple[int, str, int, bool]],
    data: st.DataObject,
) -> None:
    switches = [
        SignalSwitch(k / 10, state=s) if hold else SignalSwitch(k / 10, phase=p % len(phases))
        for k, s, p, hold in sorted(raw, key=lambda r: r[0])
    ]
    cycle = SignalCycle(phases, offset / 10, tuple(switches))
    ticks = np.arange(-50, 800)  # past the last switch, the tick grid of a 0.1 s run
    times = data.draw(st.lists(st.integers(-50, 5000), max_size=20)) + ticks.tolist()
    codes = cycle.codes_at(np.array(times) / 10)
    for k, code in zip(times, codes, strict=True):
        assert SIGNAL_STATES[code] == _piecewise(phases, offset / 10, switches, k / 10), k / 10
