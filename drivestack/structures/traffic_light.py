"""Traffic lights: where a light makes traffic stop (per controlled lane) and its signal cycle.

A :class:`TrafficLight` controls one or more lanes. For each it names the station along the
lane's centreline where that lane's stop line crosses it (:class:`LaneStop`): a vehicle
driving along the lane must not pass that station while the light shows a stop state
(:data:`STOP_STATES`). What the light shows over time is its :class:`SignalCycle` (CommonRoad's
``trafficLight`` cycle: phases repeated from a time offset), or unknown when the map gives no
cycle (Lanelet2 and OpenDRIVE maps place lights but do not say what they show; a scenario can
give them a cycle). A light switched during a run (OpenSCENARIO's storyboard signal actions)
gets, by :func:`switched_cycle`, the one pass from t = 0 that shows its timeline over the run.

States are the small vocabulary of :data:`SIGNAL_STATES` (CommonRoad's light colours, with
``"red_yellow"`` for its ``redYellow`` and ``"off"`` for ``inactive``); each has an int code,
its index there, for arrays of states (:func:`state_codes`).

Cycles are worked out in integer nanoseconds (durations and offset rounded to the ns, as
timestamps are), so a phase boundary falls exactly on the tick whose ``timestamp_ns`` it is:
``(t - offset) mod period`` in float seconds put ~1% of decimal boundaries a tick late
(``329 * 0.1`` s read as still before 32.9 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from drivestack.core.time import NS_PER_S
from drivestack.structures._checks import check_number

#: Every signal state a light can show, in code order (the code of a state is its index).
SIGNAL_STATES: tuple[str, ...] = ("unknown", "off", "green", "yellow", "red", "red_yellow")

#: States in which traffic must not pass the light's stop lines (crossing one is a violation).
STOP_STATES: frozenset[str] = frozenset({"red", "red_yellow"})

#: The longest cycle period and the farthest time from zero that int64 ns arithmetic holds.
_MAX_NS = 2**62

#: A phase lasts at least this long once rounded to the ns (a shorter one would be 0 ns).
MIN_PHASE_NS = 1
#: Periods (and so each phase) are under this many seconds, offsets within +- it (exclusive):
#: ``2**62`` ns, about 146 years, what int64 ns arithmetic holds. A larger offset is refused,
#: not reduced: a float that large is no ns-exact time (its spacing is over 1 ns from 2**53 ns
#: on, 1e300 s times 1e9 is not even finite), and a cycle repeats, so an offset within one
#: period says the same.
MAX_SIGNAL_TIME_S = _MAX_NS / NS_PER_S


def _to_ns(seconds: float) -> int:
    """Seconds -> the nearest integer nanosecond (a Python int)."""
    return round(float(seconds) * NS_PER_S)


def _times_ns(time_s: npt.ArrayLike) -> np.ndarray:
    """``(...)`` times in seconds -> ``(...)`` int64 ns (rounded); ``ValueError`` for a time
    that is not finite or too far from zero for int64 ns."""
    ns = np.rint(np.asarray(time_s, dtype=np.float64) * NS_PER_S)
    if not np.all(np.abs(ns) < _MAX_NS):  # also false for NaN
        bad = np.asarray(time_s, dtype=np.float64).ravel()[~(np.abs(ns.ravel()) < _MAX_NS)][0]
        raise ValueError(f"a signal time must be a finite number of seconds, got {bad}")
    return ns.astype(np.int64)


def duration_problem(duration_s: float) -> str | None:
    """What is wrong with ``duration_s`` as a phase's duration, in words (``"must be ..."``),
    or ``None`` when it is a finite number of seconds that rounds to at least
    :data:`MIN_PHASE_NS` ns and is under :data:`MAX_SIGNAL_TIME_S`."""
    d = float(duration_s)
    if not (math.isfinite(d) and d > 0.0):
        return f"must be a finite duration > 0 s, got {duration_s}"
    if not d < MAX_SIGNAL_TIME_S:
        return f"must be under {MAX_SIGNAL_TIME_S:.3g} s (2**62 ns), got {duration_s:.3g} s"
    if _to_ns(d) < MIN_PHASE_NS:
        return f"must be at least 1 ns (durations are rounded to the ns), got {duration_s:.3g} s"
    return None


def period_problem(durations_s: Sequence[float]) -> str | None:
    """What is wrong with phases of ``durations_s`` (each fine by :func:`duration_problem`) as
    a cycle, in words, or ``None`` when their period (the sum of the rounded durations) is
    under :data:`MAX_SIGNAL_TIME_S`."""
    period_ns = sum(_to_ns(d) for d in durations_s)
    if period_ns >= _MAX_NS:
        return (
            f"the period must be under {MAX_SIGNAL_TIME_S:.3g} s (2**62 ns), got "
            f"{period_ns / NS_PER_S:.3g} s"
        )
    return None


def offset_problem(offset_s: float) -> str | None:
    """What is wrong with ``offset_s`` as a cycle's offset, in words, or ``None`` when it is a
    finite time within +- :data:`MAX_SIGNAL_TIME_S` (exclusive; refused beyond, not reduced:
    see there)."""
    o = float(offset_s)
    if not math.isfinite(o):
        return f"must be a finite time in s, got {offset_s}"
    if not abs(o) < MAX_SIGNAL_TIME_S:
        return (
            f"must be within +-{MAX_SIGNAL_TIME_S:.3g} s (2**62 ns; a cycle repeats, so an "
            f"offset within one period says the same), got {offset_s:.3g} s"
        )
    return None


def check_state(state: str, where: str) -> str:
    """``state`` when it is one of :data:`SIGNAL_STATES`, else ``ValueError`` naming ``where``."""
    if state not in SIGNAL_STATES:
        raise ValueError(f"{where}: unknown signal state {state!r}; known: {list(SIGNAL_STATES)}")
    return state


def state_codes(states: npt.ArrayLike) -> np.ndarray:
    """``(...)`` state names -> ``(...)`` int8 codes (indices in :data:`SIGNAL_STATES`)."""
    names = np.asarray(states, dtype=object)
    out = np.empty(names.shape, dtype=np.int8)
    for code, state in enumerate(SIGNAL_STATES):
        out[names == state] = code
    known = np.isin(names, SIGNAL_STATES)
    if not np.all(known):
        bad = names[~known].ravel()[0]
        raise ValueError(f"unknown signal state {bad!r}; known: {list(SIGNAL_STATES)}")
    return out


@dataclass(frozen=True)
class SignalPhase:
    """One phase of a cycle: ``state`` shown for ``duration_s`` (> 0) seconds."""

    state: str
    duration_s: float

    def __post_init__(self) -> None:
        check_state(self.state, "SignalPhase.state")
        check_number("SignalPhase.duration_s", self.duration_s)
        if not self.duration_s > 0:
            raise ValueError(f"SignalPhase.duration_s must be positive, got {self.duration_s}")
        problem = duration_problem(self.duration_s)
        if problem is not None:
            raise ValueError(f"SignalPhase.duration_s {problem}")

    @property
    def duration_ns(self) -> int:
        """``duration_s`` rounded to the nearest nanosecond."""
        return _to_ns(self.duration_s)


@dataclass(frozen=True)
class SignalCycle:
    """``phases`` shown one after the other and repeated, the first starting at ``offset_s``.

    At time ``t`` the light shows the phase that ``(t - offset_s) mod period_s`` falls in
    (CommonRoad's rule, ``TrafficLight.get_state_at_time_step``, in time instead of time
    steps): before ``offset_s`` the cycle runs on backwards, so every time has a state. The
    rule is applied in integer nanoseconds (module doc): durations and offset rounded to the
    ns, a time in seconds too (:meth:`codes_at`), a ``timestamp_ns`` as it is
    (:meth:`codes_at_ns`).
    """

    phases: tuple[SignalPhase, ...]
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "phases", tuple(self.phases))
        if not self.phases:
            raise ValueError("SignalCycle.phases: a cycle needs at least one phase")
        for i, phase in enumerate(self.phases):
            if not isinstance(phase, SignalPhase):
                raise TypeError(
                    f"SignalCycle.phases[{i}] must be a SignalPhase, got {type(phase).__name__}"
                )
        check_number("SignalCycle.offset_s", self.offset_s)
        problem = offset_problem(self.offset_s)
        if problem is not None:
            raise ValueError(f"SignalCycle.offset_s {problem}")
        problem = period_problem([p.duration_s for p in self.phases])
        if problem is not None:
            raise ValueError(f"SignalCycle.phases: {problem}")

    @property
    def period_ns(self) -> int:
        """Length of one pass through the phases, in ns (the sum of the rounded durations)."""
        return sum(p.duration_ns for p in self.phases)

    @property
    def period_s(self) -> float:
        """Length of one pass through the phases, in seconds (:attr:`period_ns`)."""
        return self.period_ns / NS_PER_S

    @property
    def offset_ns(self) -> int:
        """``offset_s`` rounded to the nearest nanosecond."""
        return _to_ns(self.offset_s)

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray, np.int64]:
        """The phases' end times in ns (int64), their state codes (int8) and the offset reduced
        mod the period (a Python int first, so that ``t - offset`` stays within int64), built
        once: :meth:`codes_at_ns` runs every simulation tick."""
        ends = np.cumsum([p.duration_ns for p in self.phases], dtype=np.int64)
        codes = np.array([SIGNAL_STATES.index(p.state) for p in self.phases], dtype=np.int8)
        return ends, codes, np.int64(self.offset_ns % self.period_ns)

    def codes_at_ns(self, timestamp_ns: npt.ArrayLike) -> np.ndarray:
        """``(...)`` integer times in ns -> ``(...)`` int8 state codes (:data:`SIGNAL_STATES`)."""
        ends, codes, offset = self._table
        into = np.mod(np.asarray(timestamp_ns, dtype=np.int64) - offset, ends[-1])
        # side="right": a phase starts at its own start time (its end is the next one's start)
        return codes[np.searchsorted(ends, into, side="right")]

    def codes_at(self, time_s: npt.ArrayLike) -> np.ndarray:
        """``(...)`` times in seconds (rounded to the ns) -> ``(...)`` int8 state codes."""
        return self.codes_at_ns(_times_ns(time_s))

    def state_at_ns(self, timestamp_ns: int) -> str:
        """The state shown at ``timestamp_ns`` nanoseconds."""
        return SIGNAL_STATES[int(self.codes_at_ns(timestamp_ns))]

    def state_at(self, time_s: float) -> str:
        """The state shown at ``time_s`` seconds (rounded to the ns)."""
        return SIGNAL_STATES[int(self.codes_at(time_s))]


@dataclass(frozen=True)
class LaneStop:
    """Where a light stops traffic on one lane: its stop line crosses the lane's centreline at
    ``station_m`` metres from the lane's start (the lane's length when the line is its end)."""

    lane_id: str
    station_m: float

    def __post_init__(self) -> None:
        if not isinstance(self.lane_id, str):
            raise TypeError(f"LaneStop.lane_id must be a str, got {self.lane_id!r}")
        check_number("LaneStop.station_m", self.station_m)
        if self.station_m < 0:
            raise ValueError(f"LaneStop.station_m must be >= 0, got {self.station_m}")


@dataclass(frozen=True)
class TrafficLight:
    """A light ``light_id`` stopping traffic at ``stops`` (one per controlled lane), showing
    ``cycle`` (``None``: unknown unless a scenario gives one); ``position_m`` ``(2,)`` where
    the light stands, in the map frame, when the map says (for drawing; ``None`` otherwise);
    ``controller_id`` the controller that switches it together with the other lights of that
    id, when the map says (OpenDRIVE's ``<controller>``; ``None`` otherwise).
    """

    light_id: str
    stops: tuple[LaneStop, ...]
    cycle: SignalCycle | None = None
    position_m: tuple[float, float] | None = None
    controller_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.light_id, str) or not self.light_id:
            raise TypeError(f"TrafficLight.light_id must be a non-empty str, got {self.light_id!r}")
        if self.controller_id is not None and (
            not isinstance(self.controller_id, str) or not self.controller_id
        ):
            raise TypeError(
                f"TrafficLight {self.light_id!r}: controller_id must be a non-empty str or None, "
                f"got {self.controller_id!r}"
            )
        object.__setattr__(self, "stops", tuple(self.stops))
        for i, stop in enumerate(self.stops):
            if not isinstance(stop, LaneStop):
                raise TypeError(
                    f"TrafficLight {self.light_id!r}: stops[{i}] must be a LaneStop, got "
                    f"{type(stop).__name__}"
                )
        lanes = [s.lane_id for s in self.stops]
        if len(set(lanes)) != len(lanes):
            repeated = sorted({lane for lane in lanes if lanes.count(lane) > 1})
            raise ValueError(
                f"TrafficLight {self.light_id!r}: more than one stop on lane(s) {repeated}"
            )
        if self.cycle is not None and not isinstance(self.cycle, SignalCycle):
            raise TypeError(
                f"TrafficLight {self.light_id!r}: cycle must be a SignalCycle or None, got "
                f"{type(self.cycle).__name__}"
            )
        if self.position_m is not None:
            where = f"TrafficLight {self.light_id!r} position_m"
            try:
                values = tuple(self.position_m)
            except TypeError:  # not iterable
                values = ()
            if len(values) != 2:
                raise ValueError(f"{where} must be (x, y), got {self.position_m!r}")
            x, y = values
            check_number(f"{where} x", x)
            check_number(f"{where} y", y)
            object.__setattr__(self, "position_m", (float(x), float(y)))

    def state_at(self, time_s: float) -> str:
        """What the light shows at ``time_s`` seconds (``"unknown"`` without a cycle)."""
        return "unknown" if self.cycle is None else self.cycle.state_at(time_s)

    def state_at_ns(self, timestamp_ns: int) -> str:
        """What the light shows at ``timestamp_ns`` (``"unknown"`` without a cycle)."""
        return "unknown" if self.cycle is None else self.cycle.state_at_ns(timestamp_ns)

    def codes_at(self, time_s: npt.ArrayLike) -> np.ndarray:
        """``(...)`` times -> ``(...)`` int8 state codes (all ``unknown`` without a cycle)."""
        if self.cycle is None:
            return np.zeros(np.shape(time_s), dtype=np.int8)
        return self.cycle.codes_at(time_s)

    def codes_at_ns(self, timestamp_ns: npt.ArrayLike) -> np.ndarray:
        """``(...)`` integer times in ns -> ``(...)`` int8 state codes (all ``unknown``
        without a cycle)."""
        if self.cycle is None:
            return np.zeros(np.shape(timestamp_ns), dtype=np.int8)
        return self.cycle.codes_at_ns(timestamp_ns)


def switched_cycle(
    first: SignalCycle | None,
    switches: Sequence[tuple[float, SignalCycle]],
    until_s: float,
) -> SignalCycle:
    """One pass, from t = 0, of a light whose cycle is switched during a run: it shows
    ``first`` (``"unknown"`` when ``None``) from t = 0, and from each switch's ``at_s`` on that
    switch's cycle (as the cycle shows it at that time: a cycle whose phase ``P`` is to start at
    ``at_s`` carries the offset that puts it there), until the next switch.

    ``switches``: ``(at_s, cycle)`` pairs, ``at_s`` >= 0 and non-decreasing (of two at one time
    the later wins). The result is a :class:`SignalCycle` with offset 0 whose phases are that
    timeline unrolled over ``[0, until_s]``, neighbouring phases of one state joined; the pass
    runs on to the end of the phase shown at ``until_s`` (a held state: 1 s past ``until_s``),
    so that up to there it shows exactly the switched timeline. Past the pass it starts over
    and before 0 it runs backwards, as every cycle: give the run's last time as ``until_s``.
    ``ValueError`` for a switch time or ``until_s`` that is negative, not finite or too far from
    zero for int64 ns, switch times out of order, or a pass too long for a cycle.
    """
    until_ns = int(_times_ns(until_s))
    if until_ns < 0:
        raise ValueError(f"switched_cycle: until_s must be >= 0, got {until_s}")
    segments: list[tuple[int, SignalCycle]] = [(0, first or _UNKNOWN)]
    for i, (at_s, cycle) in enumerate(switches):
        at_ns = int(_times_ns(at_s))
        if at_ns < segments[-1][0] or at_ns < 0:
            raise ValueError(
                f"switched_cycle: switches[{i}] at {at_s} s must be >= 0 and not before the "
                "switch before it"
            )
        if not isinstance(cycle, SignalCycle):
            raise TypeError(
                f"switched_cycle: switches[{i}] must hold a SignalCycle, got {type(cycle).__name__}"
            )
        if at_ns == segments[-1][0]:
            segments[-1] = (at_ns, cycle)  # the earlier one is never shown
        else:
            segments.append((at_ns, cycle))
    pieces: list[list[int]] = []  # [code, duration_ns], neighbours of one code joined
    for k, (start_ns, cycle) in enumerate(segments):
        end_ns = segments[k + 1][0] if k + 1 < len(segments) else None
        for code, duration_ns in _unrolled(cycle, start_ns, end_ns, until_ns):
            if pieces and pieces[-1][0] == code:
                pieces[-1][1] += duration_ns
            else:
                pieces.append([code, duration_ns])
    return SignalCycle(
        tuple(SignalPhase(SIGNAL_STATES[code], d_ns / NS_PER_S) for code, d_ns in pieces)
    )


#: What a light without a cycle shows: unknown, at every time.
_UNKNOWN = SignalCycle((SignalPhase("unknown", 1.0),))


def _unrolled(
    cycle: SignalCycle, start_ns: int, end_ns: int | None, until_ns: int
) -> list[tuple[int, int]]:
    """``(code, duration_ns)`` of the phases ``cycle`` shows from ``start_ns`` up to ``end_ns``
    (the last phase cut there), or, when ``end_ns`` is ``None``, up to the end of the phase it
    shows at ``until_ns`` (of a one-state cycle: 1 s past ``until_ns``)."""
    ends, codes, offset = cycle._table
    period = int(ends[-1])
    if end_ns is None and len(set(codes.tolist())) == 1:  # held: no phase end to wait for
        end_ns = max(until_ns, start_ns) + NS_PER_S
    out: list[tuple[int, int]] = []
    t = start_ns
    while t < end_ns if end_ns is not None else t <= until_ns:
        into = (t - int(offset)) % period
        i = int(np.searchsorted(ends, into, side="right"))
        phase_end = t + int(ends[i]) - into
        stop = phase_end if end_ns is None else min(phase_end, end_ns)
        out.append((int(codes[i]), stop - t))
        t = stop
    return out
