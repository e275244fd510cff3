"""``switched_cycle``: a light's cycle switched during a run, as one pass from t = 0 (by hand,
and against the piecewise rule at random ticks with hypothesis); its refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.structures.traffic_light import (
    SIGNAL_STATES,
    SignalCycle,
    SignalPhase,
    switched_cycle,
)

# green 2 s, red 3 s, the first phase starting at 1 s: red on [0, 1)
BASE = SignalCycle((SignalPhase("green", 2.0), SignalPhase("red", 3.0)), offset_s=1.0)
YELLOW = SignalCycle((SignalPhase("yellow", 1.0),))


def test_by_hand() -> None:
    # yellow held from 4.5 s; at 7 s the base cycle again, entering its red phase (2 s in)
    again = SignalCycle(BASE.phases, offset_s=7.0 - 2.0)
    out = switched_cycle(BASE, [(4.5, YELLOW), (7.0, again)], until_s=12.0)
    assert out.offset_s == 0.0
    assert [(p.state, p.duration_s) for p in out.phases] == [
        ("red", 1.0),
        ("green", 2.0),
        ("red", 1.5),
        ("yellow", 2.5),
        ("red", 3.0),
        ("green", 2.0),
        ("red", 3.0),  # the phase shown at 12 s, to its end at 15 s
    ]


def test_no_cycle_is_unknown_and_a_held_state_runs_a_second_past_the_end() -> None:
    out = switched_cycle(None, [(2.0, YELLOW)], until_s=5.0)
    assert [(p.state, p.duration_s) for p in out.phases] == [("unknown", 2.0), ("yellow", 4.0)]
    # of two switches at one time the later wins; one at 0 replaces the first cycle
    out = switched_cycle(BASE, [(0.0, BASE), (0.0, YELLOW)], until_s=3.0)
    assert [(p.state, p.duration_s) for p in out.phases] == [("yellow", 4.0)]


@pytest.mark.parametrize(
    "switches, until_s, match",
    [
        ([(2.0, YELLOW), (1.0, YELLOW)], 5.0, r"switches\[1\] at 1.0 s"),
        ([(-1.0, YELLOW)], 5.0, r"switches\[0\]"),
        ([], -1.0, "until_s must be >= 0"),
        ([], float("nan"), "finite"),
    ],
)
def test_refusals(switches: list[tuple[float, SignalCycle]], until_s: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        switched_cycle(BASE, switches, until_s)


_STATES = st.sampled_from(SIGNAL_STATES[1:])
_CYCLES = st.builds(
    lambda phases, offset: SignalCycle(
        tuple(SignalPhase(s, k / 10) for s, k in phases), offset_s=offset / 10
    ),
    st.lists(st.tuples(_STATES, st.integers(1, 60)), min_size=1, max_size=4),
    st.integers(-300, 300),
)


@settings(max_examples=60, deadline=None)
@given(
    first=st.none() | _CYCLES,
    switches=st.lists(st.tuples(st.integers(0, 300), _CYCLES), max_size=4),
    until=st.integers(0, 400),
)
def test_matches_the_piecewise_rule_at_every_tick(
    first: SignalCycle | None, switches: list[tuple[int, SignalCycle]], until: int
) -> None:
    timeline = sorted(((k / 10, c) for k, c in switches), key=lambda x: x[0])
    out = switched_cycle(first, timeline, until / 10)
    for k in range(until + 1):
        t = k / 10
        shown = [c for at, c in timeline if at <= t]  # the latest switch at or before t
        want = shown[-1].state_at(t) if shown else "unknown" if first is None else first.state_at(t)
        assert out.state_at(t) == want, t
