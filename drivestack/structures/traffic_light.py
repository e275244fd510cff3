"""Traffic lights: where a light makes traffic stop (per controlled lane) and its signal cycle.

A :class:`TrafficLight` controls one or more lanes. For each it names the station along the
lane's centreline where that lane's stop line crosses it (:class:`LaneStop`): a vehicle
driving along the lane must not pass that station while the light shows a stop state
(:data:`STOP_STATES`), when it goes on into a way out that the light governs (all of them,
unless the stop's ``next_lanes`` names some: a turn arrow). What the light shows over time is its :class:`SignalCycle` (CommonRoad's
``trafficLight`` cycle: phases repeated from a time offset), or unknown when the map gives no
cycle (Lanelet2 and OpenDRIVE maps place lights but do not say what they show; a scenario can
give them a cycle). A cycle may be switched during a run (:class:`SignalSwitch`: OpenSCENARIO's
storyboard signal actions, a scenario's ``switches:``): from a switch's time on the light holds
a state, or its cycle starts over at a given phase, at every later time (a run of any length).

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


def switch_time_problem(at_s: float, after_s: float | None = None) -> str | None:
    """What is wrong with ``at_s`` as a switch's time, in words, or ``None`` when it is a
    finite time >= 0 s under :data:`MAX_SIGNAL_TIME_S` and not before ``after_s`` (the
    switch before it; switches are in time order, of two at one time the later wins)."""
    a = float(at_s)
    if not (math.isfinite(a) and a >= 0.0):
        return f"must be a finite time >= 0 s, got {at_s}"
    if not a < MAX_SIGNAL_TIME_S:
        return f"must be under {MAX_SIGNAL_TIME_S:.3g} s (2**62 ns), got {at_s:.3g} s"
    if after_s is not None and a < float(after_s):
        return (
            f"must not be before the switch before it ({after_s} s): switches are in time "
            f"order, got {at_s}"
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
class SignalSwitch:
    """From ``at_s`` (s, >= 0) on, the light holds ``state``, or, given ``phase`` instead (an
    index into its cycle's phases), its cycle starts over with that phase at ``at_s`` and
    runs on from there; either until the next switch (:class:`SignalCycle`'s ``switches``).
    Exactly one of ``state`` and ``phase``."""

    at_s: float
    state: str | None = None
    phase: int | None = None

    def __post_init__(self) -> None:
        check_number("SignalSwitch.at_s", self.at_s)
        problem = switch_time_problem(self.at_s)
        if problem is not None:
            raise ValueError(f"SignalSwitch.at_s {problem}")
        if (self.state is None) == (self.phase is None):
            raise ValueError(
                "SignalSwitch: give exactly one of state (a state held) and phase (the phase "
                f"the cycle starts over at), got state={self.state!r}, phase={self.phase!r}"
            )
        if self.state is not None:
            check_state(self.state, "SignalSwitch.state")
        if self.phase is not None and (
            isinstance(self.phase, bool) or not isinstance(self.phase, int) or self.phase < 0
        ):
            raise ValueError(f"SignalSwitch.phase must be an int >= 0, got {self.phase!r}")

    @property
    def at_ns(self) -> int:
        """``at_s`` rounded to the nearest nanosecond."""
        return _to_ns(self.at_s)


@dataclass(frozen=True)
class SignalCycle:
    """``phases`` shown one after the other and repeated, the first starting at ``offset_s``,
    then ``switches`` (:class:`SignalSwitch`, in time order) from their times on.

    Before the first switch, at time ``t`` the light shows the phase that ``(t - offset_s) mod
    period_s`` falls in (CommonRoad's rule, ``TrafficLight.get_state_at_time_step``, in time
    instead of time steps): before ``offset_s`` the cycle runs on backwards, so every time has
    a state. From a switch's ``at_s`` up to the next one's (for ever after the last) it shows
    the switch's held ``state``, or the cycle with the offset that starts phase ``phase`` at
    ``at_s``; of switches at one time the later wins. The rule is applied in integer
    nanoseconds (module doc): durations, offset and switch times rounded to the ns, a time in
    seconds too (:meth:`codes_at`), a ``timestamp_ns`` as it is (:meth:`codes_at_ns`).
    """

    phases: tuple[SignalPhase, ...]
    offset_s: float = 0.0
    switches: tuple[SignalSwitch, ...] = ()

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
        object.__setattr__(self, "switches", tuple(self.switches))
        for i, switch in enumerate(self.switches):
            if not isinstance(switch, SignalSwitch):
                raise TypeError(
                    f"SignalCycle.switches[{i}] must be a SignalSwitch, got {type(switch).__name__}"
                )
            after_s = self.switches[i - 1].at_s if i else None
            problem = switch_time_problem(switch.at_s, after_s)
            if problem is not None:
                raise ValueError(f"SignalCycle.switches[{i}].at_s {problem}")
            if switch.phase is not None and switch.phase >= len(self.phases):
                raise ValueError(
                    f"SignalCycle.switches[{i}].phase must index the cycle's "
                    f"{len(self.phases)} phase(s) (0..{len(self.phases) - 1}), got {switch.phase}"
                )

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

    @cached_property
    def _switch_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The switches' times in ns (int64, non-decreasing), the state each holds (int8 code,
        -1 for a cycle started over) and the cycle's offset from each on (int64, reduced mod
        the period: the offset that starts phase ``phase`` at ``at_ns``; the base offset's for
        a held state, never read)."""
        ends, _, offset = self._table
        at = np.array([w.at_ns for w in self.switches], dtype=np.int64)
        holds = np.array(
            [-1 if w.state is None else SIGNAL_STATES.index(w.state) for w in self.switches],
            dtype=np.int8,
        )
        starts = [0, *ends[:-1].tolist()]  # each phase's start within a pass
        offsets = np.array(
            [
                offset if w.phase is None else (w.at_ns - starts[w.phase]) % int(ends[-1])
                for w in self.switches
            ],
            dtype=np.int64,
        )
        return at, holds, offsets

    def codes_at_ns(self, timestamp_ns: npt.ArrayLike) -> np.ndarray:
        """``(...)`` integer times in ns -> ``(...)`` int8 state codes (:data:`SIGNAL_STATES`)."""
        ends, codes, offset = self._table
        t = np.asarray(timestamp_ns, dtype=np.int64)
        shift: np.ndarray | np.int64 = offset
        held = None
        if self.switches:
            at, holds, offsets = self._switch_table
            # the last switch at or before t (side="right": of switches at one time, the
            # last); -1 before the first
            k = np.searchsorted(at, t, side="right") - 1
            since = k >= 0
            k = np.maximum(k, 0)
            shift = np.where(since, offsets[k], offset)
            held = np.where(since, holds[k], -1)
        into = np.mod(t - shift, ends[-1])
        # side="right": a phase starts at its own start time (its end is the next one's)
        cycle = codes[np.searchsorted(ends, into, side="right")]
        return cycle if held is None else np.where(held >= 0, held, cycle).astype(np.int8)

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
    ``station_m`` metres from the lane's start (the lane's length when the line is its end).

    ``next_lanes``: the ways out of the lane that the light governs, as the ids of the lanes
    leaving it (a turn arrow: CommonRoad's ``<direction>`` resolved on its intersection), or
    ``None`` when it governs every way out (a plain light, and every map that does not say).
    Traffic on the lane obeys the light only when it goes on into one of them
    (:meth:`governs`); ``()`` governs no way out of this lane (a left arrow that a
    straight-only lane references). Ids are distinct non-empty strings, not ``lane_id``
    itself; that they leave the lane is the map reader's to check (it knows the lanes).
    """

    lane_id: str
    station_m: float
    next_lanes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.lane_id, str):
            raise TypeError(f"LaneStop.lane_id must be a str, got {self.lane_id!r}")
        check_number("LaneStop.station_m", self.station_m)
        if self.station_m < 0:
            raise ValueError(f"LaneStop.station_m must be >= 0, got {self.station_m}")
        if self.next_lanes is None:
            return
        where = f"LaneStop {self.lane_id!r}: next_lanes"
        if isinstance(self.next_lanes, str) or not isinstance(self.next_lanes, (tuple, list)):
            raise TypeError(f"{where} must be a tuple of lane ids or None, got {self.next_lanes!r}")
        object.__setattr__(self, "next_lanes", tuple(self.next_lanes))
        for lane in self.next_lanes:
            if not isinstance(lane, str) or not lane:
                raise TypeError(f"{where} must hold non-empty str lane ids, got {lane!r}")
        if len(set(self.next_lanes)) != len(self.next_lanes):
            raise ValueError(f"{where} repeats a lane: {list(self.next_lanes)}")
        if self.lane_id in self.next_lanes:
            raise ValueError(f"{where} names the stop's own lane {self.lane_id!r}")

    def governs(self, next_lane: str | None) -> bool:
        """Whether traffic on the lane that goes on into ``next_lane`` obeys this stop's light:
        always when the light governs every way out (``next_lanes`` None) or the way on is not
        given (``None``: a path that ends on the lane), else when ``next_lane`` is one of
        ``next_lanes``."""
        return self.next_lanes is None or next_lane is None or next_lane in self.next_lanes


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

    def stop_on(self, lane_id: str) -> LaneStop | None:
        """This light's stop on lane ``lane_id`` (``None`` when it does not stop that lane)."""
        for stop in self.stops:
            if stop.lane_id == lane_id:
                return stop
        return None

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
