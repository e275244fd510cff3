"""Simulated traffic: log-replayed tracks, reactive IDM lane followers and scripted manoeuvres.

Path agents (``idm`` and ``scripted``) move along a polyline ``path_m`` at a station with a
lateral offset (positive left). Their speed comes from IDM (reactive: it follows whatever is
ahead in its corridor, ego included) or from ``speed_events`` (scripted: braking profiles,
a pedestrian starting to walk). ``lateral_shifts`` move the offset along a smooth cosine
profile (cut-in, cut-out, lane change). ``replay`` agents interpolate a recorded track and
ignore everyone (non-reactive), and exist only inside the track's time span.

Traffic lights: an ``idm`` agent whose path was built from lanes (``lanes:`` in a scenario)
carries the stops of the map's lights on them (``AgentSpec.light_stops``, stations along its
path: :func:`~drivestack.planning.traffic_lights.path_light_stops`) and obeys them with the
planners' rule (:class:`~drivestack.planning.traffic_lights.LightStopRule`, one per agent, reset
with the traffic). It stops for red or red-yellow when the constant deceleration to its stop
point (``idm.min_gap_m`` before the line) is at most :data:`LIGHT_STOP_DECEL_MPS2` (at least
its ``idm.comfort_decel_mps2``), for yellow only within ``idm.comfort_decel_mps2``, and
otherwise drives through; green, off and unknown are go. Stopping, its acceleration is the
lower of IDM's for its real leader and the planners' light-stop law for the line
(:func:`~drivestack.planning.proposals.light_stop_accel`, the proposals' rollout's: onto and
along the constant-deceleration stop at the decision's ``decel_mps2``, ``max(need,
idm.comfort_decel_mps2)``): it coasts until that stop is near, then brakes at about that
deceleration, easing off within twice the gap of the line, to rest between its stop point
and the line, whatever car is ahead of it (the line is not a standing leader: IDM brakes for
one far harder than the stop needs, and only once no car ahead is nearer). The lights an
agent obeys are those of its ``lanes:`` that govern the way its lanes go on (a turn arrow
governs only some ways out of its stop's lane: an agent whose next lane is not one of them
drives past it; on its last lane every stop counts:
:func:`~drivestack.planning.traffic_lights.governs_way`); a ``lateral_shifts`` lane change
leaves them unchanged. ``Traffic.step`` takes the lights' states each tick (``World.step`` passes
``World.traffic_light_states()``; none given: every light unknown). An ``idm`` agent on a
``path_m`` has no lanes, so no stops. ``scripted`` agents follow their script, and ``replay`` /
``reactive`` agents their recording (which already holds how the recorded driver met the
real light; a map's cycles, CommonRoad's included, are not the recorded ones): none of them
obeys lights.

Stop signs: an ``idm`` agent whose path was built from lanes also carries the stops of the
map's signs that stop traffic on them (``AgentSpec.sign_stops``, kinds ``stop`` and
``all_way_stop``, as the planners place them on a route:
:func:`~drivestack.planning.stop_signs.route_sign_stops`) and obeys them with the planners'
rule (:class:`~drivestack.planning.stop_signs.StopSignRule`, one per agent, reset with the
traffic): it stops at the line with the light-stop law above (at ``max(need,
idm.comfort_decel_mps2)``, at most ``idm.max_decel_mps2``: a sign is always stopped for), stands
under :data:`~drivestack.planning.stop_signs.FULL_STOP_SPEED_MPS` with its front within
:data:`~drivestack.planning.stop_signs.STOP_WINDOW_M` before the line for
:data:`~drivestack.planning.stop_signs.STOP_SIGN_DWELL_S` (the simulation's clock), and is
released. Released, it goes only once the priority road is clear: no other agent present and
not the ego would reach one of the line's conflict points within the gap
(``AgentSpec.sign_conflicts``; the rule: :mod:`drivestack.sim.give_way`), and, at an
``all_way_stop``, it is its turn (first to stop, first to go: one
:class:`~drivestack.planning.stop_signs.ArrivalOrder` per rule, fed every step with the
agents present and the ego); until then it is held at the line by the same law (at
``idm.comfort_decel_mps2``). The decision to go is kept:
whoever comes later, it drives on. With no conflict points (none given) it goes when
released. As for lights, ``scripted``, ``replay`` and ``reactive`` agents and an ``idm`` agent
on a ``path_m`` obey no sign.

``reactive`` agents are recorded vehicles that react (nuPlan's reactive closed loop, with the
recording kept as each agent's plan; :func:`reactive_agent` makes one from a replay agent):

- **Who**: vehicles (:data:`REACTIVE_CLASSES`, nuPlan's ``VEHICLE`` type) whose recording
  drives forwards along a path of at least :data:`MIN_REACTIVE_PATH_M`
  (:func:`reactive_agent`). Pedestrians, cyclists, static objects, vehicles that hardly
  move and reversing ones stay replayed.
- **Path**: the polyline of the recorded centres (:func:`recorded_path`); the heading is the
  path's. The recorded station ``s_rec(t)`` is each recorded centre projected on it (never
  decreasing) and the recorded speed ``v_rec(t)`` its time derivative.
- **When**: it appears at its first recorded time at ``s_rec``, ``v_rec`` of that time (nuPlan
  instead turns only the vehicles present at the start into IDM agents) and disappears
  when it reaches the end of its path, but not before its recorded time span is over: a
  car held up by the ego drives on to the end of its path however late, and one recorded
  standing at the end of its path stays there as long as recorded.
- **Speed**: the target speed is the recorded speed at the current time (so a recorded wait
  at a light lasts as long as recorded). The free-road acceleration is the recording's
  (``(v_rec(t + dt) - v_rec(t)) / dt``) plus ``(v_rec(t) - v) / SPEED_TAU_S`` (limited to
  IDM's comfortable braking and maximum acceleration) to regain the recorded speed after a
  hold-up. nuPlan's rule (IDM towards the lane's speed limit) and plain IDM towards
  ``v_rec`` would both leave an undisturbed car far from its recording: IDM's free-road term
  approaches its target only asymptotically, under ``max_accel_mps2``.
- **Reaction**: IDM (:func:`~drivestack.planning.idm.idm_acceleration`) brakes it for its
  leader, the nearest actor (agent or ego, within :data:`LEADER_RANGE_M`) ahead in its
  corridor along its path (as an ``idm`` agent's), but only by as much as the situation ahead is tighter than the recorded
  one: ``min(0, a_IDM(gap, leader speed) - a_IDM(recorded gap, recorded leader speed))``, the
  recorded gap measured from ``s_rec(t)`` to the recorded agents at ``t`` (ego excluded, as it
  is not in the recording) and both at the current speed with no free-road term. A
  recorded car following another as recorded therefore drives exactly as recorded; one
  that finds the ego (or a held-up agent) closer than the recording had it brakes.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from drivestack.core.transforms import wrap_angle
from drivestack.planning.idm import IDMParams, idm_acceleration
from drivestack.planning.proposals import LIGHT_STOP_GAIN_PER_S, light_stop_accel
from drivestack.planning.stop_signs import (
    EGO_ACTOR_ID,
    STOP_SIGN_DWELL_S,
    STOP_WINDOW_M,
    ArrivalOrder,
    RouteSignStop,
    StopSignRule,
    order_key,
    sign_stop_gap_m,
)
from drivestack.planning.traffic_lights import (
    FRONT_TOLERANCE_M,
    LIGHT_STOP_DECEL_MPS2,  # raised to an agent's idm.comfort_decel_mps2 when that is higher
    LightStopRule,
    RouteLightStop,
)
from drivestack.sim.give_way import Conflict, blocking_actor
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import (
    PolylineIndex,
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
)

BEHAVIORS = ("idm", "scripted", "replay", "reactive")
#: Classes a recorded agent of which becomes reactive (nuPlan's ``VEHICLE`` tracked objects).
REACTIVE_CLASSES = frozenset(
    {
        ObjectClass.CAR,
        ObjectClass.TRUCK,
        ObjectClass.BUS,
        ObjectClass.MOTORCYCLE,
        ObjectClass.VAN,
        ObjectClass.TRAILER,
        ObjectClass.OTHER_VEHICLE,
    }
)
#: A reactive agent's path keeps recorded centres at least this far from the previous kept one
#: (annotation jitter at a standstill would otherwise make the path zig-zag).
PATH_STEP_M = 1.0
#: A recorded vehicle whose path is shorter stays replayed (it hardly moves).
MIN_REACTIVE_PATH_M = 5.0
#: ... as does one whose path runs off its recorded yaw by more (reversing, jitter).
MAX_HEADING_ERROR_RAD = math.radians(45.0)
#: Time constant (s) with which a reactive agent regains its recorded speed after a hold-up.
SPEED_TAU_S = 1.0
#: A reactive agent looks for its leader among the actors this close to it (nuPlan simulates
#: only the agents within 100 m of the ego); farther ones would change IDM by < 0.1 m/s^2.
LEADER_RANGE_M = 100.0
#: A reactive agent this close to the end of its path has left the scene.
PATH_END_TOLERANCE_M = 0.05


@dataclass(frozen=True)
class SpeedEvent:
    """From its start on, change speed at ``|accel_mps2|`` until ``target_speed_mps``; the
    event started last acts (of events started at one tick, the one listed last: it replaces
    those before it, as a later OpenSCENARIO action replaces an earlier one).

    It starts at ``time_s``, or with ``when_ego_within_m`` at the first tick from ``time_s`` on
    at which the agent's centre is within that distance of the ego's (an OpenSCENARIO
    ``RelativeDistanceCondition`` on the ego). With ``along_path`` the distance is measured
    along the agent's path instead (an OpenSCENARIO ``longitudinal`` distance):
    ``|agent station - ego's station projected on the path - along_path_offset_m|``.
    """

    time_s: float
    accel_mps2: float
    target_speed_mps: float
    when_ego_within_m: float | None = None
    along_path: bool = False
    along_path_offset_m: float = 0.0


@dataclass(frozen=True)
class LateralShift:
    """From its start on (as :class:`SpeedEvent`'s), move to lateral ``offset_m`` over
    ``duration_s`` (cosine blend)."""

    time_s: float
    duration_s: float
    offset_m: float
    when_ego_within_m: float | None = None
    along_path: bool = False
    along_path_offset_m: float = 0.0


@dataclass(frozen=True)
class ReplayTrack:
    """A recorded track: ``time_s (T,)`` strictly increasing, and ``(T,)`` poses and speeds.

    ``yaw_rad`` is stored unwrapped (continuous) so that it interpolates across +-pi.
    """

    time_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "yaw_rad", np.unwrap(np.asarray(self.yaw_rad, dtype=np.float64)))


@dataclass(frozen=True)
class AgentSpec:
    agent_id: str
    label: ObjectClass
    size_m: tuple[float, float, float]  # length, width, height
    behavior: str
    path_m: np.ndarray | None = None
    station_m: float = 0.0
    offset_m: float = 0.0
    speed_mps: float = 0.0
    desired_speed_mps: float = 13.89
    idm: IDMParams = field(default_factory=IDMParams)
    speed_events: tuple[SpeedEvent, ...] = ()
    lateral_shifts: tuple[LateralShift, ...] = ()
    replay: ReplayTrack | None = None
    # the map's light stops on an idm agent's lanes, in station order along path_m
    light_stops: tuple[RouteLightStop, ...] = ()
    # the map's stop-sign stops on an idm agent's lanes, in station order along path_m, and
    # each one's conflict points (drivestack.sim.give_way; () for all: none to give way at)
    sign_stops: tuple[RouteSignStop, ...] = ()
    sign_conflicts: tuple[tuple[Conflict, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.behavior not in BEHAVIORS:
            raise ValueError(
                f"agent {self.agent_id!r}: behavior must be one of {BEHAVIORS}, got {self.behavior!r}"
            )
        if self.light_stops and self.behavior != "idm":
            raise ValueError(
                f"agent {self.agent_id!r}: only idm agents obey traffic lights, a "
                f"{self.behavior} agent cannot have light_stops"
            )
        if self.sign_stops and self.behavior != "idm":
            raise ValueError(
                f"agent {self.agent_id!r}: only idm agents obey stop signs, a "
                f"{self.behavior} agent cannot have sign_stops"
            )
        if self.sign_conflicts and len(self.sign_conflicts) != len(self.sign_stops):
            raise ValueError(
                f"agent {self.agent_id!r}: sign_conflicts must hold one tuple per sign stop "
                f"({len(self.sign_stops)}), got {len(self.sign_conflicts)}"
            )
        if self.behavior in ("replay", "reactive") and self.replay is None:
            raise ValueError(
                f"agent {self.agent_id!r}: behavior {self.behavior} needs a replay track"
            )
        if self.behavior != "replay" and self.path_m is None:
            raise ValueError(f"agent {self.agent_id!r}: behavior {self.behavior} needs a path")


@dataclass
class AgentsState:
    """Poses of all A agents at one time: ``(A,)`` arrays, ``valid`` False when absent."""

    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    valid: np.ndarray
    station_m: np.ndarray
    offset_m: np.ndarray


@dataclass
class EventStarts:
    """When each of one agent's events started: ``speed`` / ``shift`` per event in the spec's
    order, ``math.inf`` while a triggered event waits for its condition."""

    speed: list[float]
    shift: list[float]

    @classmethod
    def initial(cls, spec: AgentSpec) -> EventStarts:
        def start(e: SpeedEvent | LateralShift) -> float:
            return e.time_s if e.when_ego_within_m is None else math.inf

        return cls([start(e) for e in spec.speed_events], [start(s) for s in spec.lateral_shifts])

    @property
    def waiting(self) -> bool:
        """Does an event still wait for its condition?"""
        return math.inf in self.speed or math.inf in self.shift

    def fire(
        self,
        spec: AgentSpec,
        time_s: float,
        distance_to_ego_m: float,
        ahead_of_ego_m: Callable[[], float],
    ) -> None:
        """Start the waiting events whose time has come and whose condition holds.

        ``distance_to_ego_m``: between the agent's and the ego's centres; ``ahead_of_ego_m``:
        computes the agent's station minus the ego centre's station projected on the agent's
        path (called at most once, when an ``along_path`` event needs it)."""
        ahead_m: float | None = None
        pairs: tuple[tuple[list[float], tuple[SpeedEvent | LateralShift, ...]], ...] = (
            (self.speed, spec.speed_events),
            (self.shift, spec.lateral_shifts),
        )
        for starts, events in pairs:
            for j, event in enumerate(events):
                if (
                    starts[j] != math.inf
                    or event.when_ego_within_m is None
                    or event.time_s > time_s + 1e-9
                ):
                    continue
                distance_m = distance_to_ego_m
                if event.along_path:
                    if ahead_m is None:
                        ahead_m = ahead_of_ego_m()
                    distance_m = abs(ahead_m - event.along_path_offset_m)
                if distance_m <= event.when_ego_within_m:
                    starts[j] = time_s


def _offset_at(spec: AgentSpec, time_s: float, starts: EventStarts) -> float:
    offset = spec.offset_m
    for start, shift in sorted(
        zip(starts.shift, spec.lateral_shifts, strict=True), key=lambda p: p[0]
    ):
        if time_s <= start:
            break
        u = min(1.0, (time_s - start) / max(shift.duration_s, 1e-6))
        offset = offset + (shift.offset_m - offset) * 0.5 * (1.0 - math.cos(math.pi * u))
    return offset


def _scripted_accel(
    spec: AgentSpec, time_s: float, speed_mps: float, dt_s: float, starts: EventStarts
) -> float:
    active = [
        (start, e)
        for start, e in zip(starts.speed, spec.speed_events, strict=True)
        if start <= time_s + 1e-9
    ]
    if not active:
        return 0.0
    # the latest start acts; of events started together, the one listed last replaces the rest
    event = max(enumerate(active), key=lambda p: (p[1][0], p[0]))[1][1]
    diff = event.target_speed_mps - speed_mps
    if abs(diff) < 1e-9:
        return 0.0
    rate = abs(event.accel_mps2)
    return math.copysign(min(rate, abs(diff) / dt_s), diff)


#: Every agent's recorded ``xy (A, 2)``, ``yaw (A,)``, ``speed (A,)`` and ``valid (A,)``.
_Poses = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
#: Every agent's and the ego's ``xy (A + 1, 2)``, ``yaw``, ``speed``, ``length`` and
#: ``valid (A + 1,)`` (:meth:`Traffic._actors`).
_Actors = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _read_only(path_m: np.ndarray | None) -> np.ndarray | None:
    """A read-only copy of a path (same values and dtype), so that the road-map helpers may
    memoise its stations."""
    if path_m is None:
        return None
    out = np.array(path_m)
    out.setflags(write=False)
    return out


def recorded_path(track: ReplayTrack, step_m: float = PATH_STEP_M) -> np.ndarray | None:
    """The ``(N, 2)`` path of a recorded track: its first centre, then each centre at least
    ``step_m`` from the previous kept one; ``None`` when that keeps fewer than 2 (a vehicle
    that never moves as far as ``step_m``). It ends at the last centre: appended when more
    than ``step_m / 2`` from the last kept one, else in its place."""
    xy = np.stack([track.x_m, track.y_m], axis=1)
    kept = [xy[0]]
    for point in xy[1:]:
        if math.dist(point, kept[-1]) >= step_m:
            kept.append(point)
    if len(kept) < 2:
        return None
    if math.dist(xy[-1], kept[-1]) > 0.5 * step_m:
        kept.append(xy[-1])
    else:
        kept[-1] = xy[-1]
    return np.array(kept)


def reactive_agent(spec: AgentSpec) -> AgentSpec:
    """A replay agent as a ``reactive`` one driving its recorded path (module docstring);
    ``spec`` itself unless it is a replayed vehicle (:data:`REACTIVE_CLASSES`) that drives
    forwards along a path (:func:`recorded_path`) of at least :data:`MIN_REACTIVE_PATH_M`:
    every path segment within :data:`MAX_HEADING_ERROR_RAD` of the recorded yaw where it
    starts (a reversing car, or a parked one whose annotation jitters, stays replayed)."""
    if spec.behavior != "replay" or spec.label not in REACTIVE_CLASSES:
        return spec
    track = spec.replay
    assert track is not None
    path = recorded_path(track)
    if path is None or polyline_stations(path)[-1] < MIN_REACTIVE_PATH_M:
        return spec
    d = np.diff(path, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    xy = np.stack([track.x_m, track.y_m], axis=1)
    # the recorded yaw at each segment's start (the first recorded row at that point)
    rows = np.argmin(np.linalg.norm(xy[None, :, :] - path[:-1, None, :], axis=2), axis=1)
    error = np.abs(wrap_angle(heading - track.yaw_rad[rows]))
    if np.any(error > MAX_HEADING_ERROR_RAD):
        return spec
    return dataclasses.replace(spec, behavior="reactive", path_m=path)


@dataclass(frozen=True)
class RecordedProfile:
    """A recorded track along its own path: ``time_s (T,)``, the station ``station_m (T,)``
    (each recorded centre projected on the path, never decreasing, within ``[0, length]``) and
    the along-path speed ``speed_mps (T,)`` (its time derivative; 0 for a single row)."""

    time_s: np.ndarray
    station_m: np.ndarray
    speed_mps: np.ndarray

    @classmethod
    def of(cls, track: ReplayTrack, path_m: np.ndarray) -> RecordedProfile:
        station, _ = project_to_polyline(path_m, np.stack([track.x_m, track.y_m], axis=1))
        station = np.maximum.accumulate(np.clip(station, 0.0, polyline_stations(path_m)[-1]))
        speed = np.gradient(station, track.time_s) if len(station) > 1 else np.zeros(1)
        return cls(track.time_s, station, speed)

    def station_at(self, time_s: float) -> float:
        return float(np.interp(time_s, self.time_s, self.station_m))

    def speed_at(self, time_s: float) -> float:
        """The recorded speed at ``time_s`` (the first / last one outside the span)."""
        return float(np.interp(time_s, self.time_s, self.speed_mps))


def nearest_ahead(
    path_m: np.ndarray,
    station_m: float,
    offset_m: float,
    own_size_m: tuple[float, float, float],
    actor_station_m: np.ndarray,
    actor_lateral_m: np.ndarray,
    yaw_rad: np.ndarray,
    speed_mps: np.ndarray,
    size_m: np.ndarray,
) -> tuple[float, float]:
    """Gap (m, bumper to bumper) and along-path speed of the nearest of ``M`` actors ahead
    of station ``station_m`` in the corridor of an agent at lateral ``offset_m`` on
    ``path_m``; ``(inf, 0)`` when none is. The actors are given by their Frenet coordinates
    on ``path_m`` (``actor_station_m``, ``actor_lateral_m (M,)``:
    :func:`~drivestack.structures.road_map.project_to_polyline`), ``yaw_rad``,
    ``speed_mps (M,)`` and length / width ``size_m (M, 2)``."""
    s, d = actor_station_m, actor_lateral_m
    own_l, own_w = own_size_m[0], own_size_m[1]
    ahead = (s > station_m) & (np.abs(d - offset_m) < 0.5 * (own_w + size_m[:, 1]) + 0.3)
    if not np.any(ahead):
        return math.inf, 0.0
    gaps = np.where(ahead, s - station_m - 0.5 * (own_l + size_m[:, 0]), np.inf)
    k = int(np.argmin(gaps))
    lead = slice(k, k + 1)  # the leader alone: the path heading at its station
    _, heading = interpolate_polyline(path_m, s[lead])
    return float(gaps[k]), float((speed_mps[lead] * np.cos(yaw_rad[lead] - heading))[0])


def _light_rule(spec: AgentSpec) -> LightStopRule | None:
    """The light rule of an ``idm`` agent with light stops (``None`` for any other agent): its
    front half a length ahead of its station (the box centre), stopping ``idm.min_gap_m``
    before the line (where IDM stops behind a standing leader), deciding at up to its
    comfortable deceleration for yellow and :data:`LIGHT_STOP_DECEL_MPS2` for red, and holding
    a decision up to its ``idm.max_decel_mps2``."""
    if spec.behavior != "idm" or not spec.light_stops:
        return None
    params = spec.idm
    stop_decel = max(LIGHT_STOP_DECEL_MPS2, params.comfort_decel_mps2)
    return LightStopRule(
        spec.light_stops,
        0.5 * spec.size_m[0],
        comfort_decel_mps2=params.comfort_decel_mps2,
        stop_decel_mps2=stop_decel,
        max_decel_mps2=max(stop_decel, params.max_decel_mps2),
        stop_gap_m=params.min_gap_m,
    )


def _sign_rule(spec: AgentSpec) -> StopSignRule | None:
    """The stop-sign rule of an ``idm`` agent with sign stops (``None`` for any other agent):
    the planners' (:class:`~drivestack.planning.stop_signs.StopSignRule`) with its front half
    a length ahead of its station, stopping
    :func:`~drivestack.planning.stop_signs.sign_stop_gap_m` (``idm.min_gap_m``, at most 2 m)
    before the line at ``max(need, idm.comfort_decel_mps2)``, at most its
    ``idm.max_decel_mps2``, released after standing
    :data:`~drivestack.planning.stop_signs.STOP_SIGN_DWELL_S` within
    :data:`~drivestack.planning.stop_signs.STOP_WINDOW_M` before the line."""
    if spec.behavior != "idm" or not spec.sign_stops:
        return None
    params = spec.idm
    return StopSignRule(
        spec.sign_stops,
        0.5 * spec.size_m[0],
        comfort_decel_mps2=params.comfort_decel_mps2,
        max_decel_mps2=max(params.comfort_decel_mps2, params.max_decel_mps2),
        stop_gap_m=sign_stop_gap_m(params.min_gap_m),
        window_m=STOP_WINDOW_M,
        dwell_s=STOP_SIGN_DWELL_S,
    )


def _in_leader_range(agents: np.ndarray, xy_m: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(R, M)``: which of the ``M`` actors at ``xy_m (M, 2)``, ``valid (M,)`` are within
    :data:`LEADER_RANGE_M` of each of the ``agents (R,)`` (indices into them), itself excluded."""
    near = valid[None, :] & (
        np.hypot(xy_m[None, :, 0] - xy_m[agents, None, 0], xy_m[None, :, 1] - xy_m[agents, None, 1])
        <= LEADER_RANGE_M
    )
    near[np.arange(len(agents)), agents] = False
    return near


class Traffic:
    """Stage holding every agent's state; ``step`` advances all agents by one tick."""

    def __init__(self, specs: list[AgentSpec]) -> None:
        self.specs = list(specs)
        self._paths = [_read_only(spec.path_m) for spec in self.specs]
        self._path_len = np.array(
            [float(polyline_stations(p)[-1]) if p is not None else 0.0 for p in self._paths]
        )
        self._size_m = self.size_m  # (A, 3), built once: the specs never change
        self._replayed = np.array([spec.behavior == "replay" for spec in self.specs], dtype=bool)
        self.time_s = 0.0
        self._tick = 0  # counts steps and resets (the cache key of boxes() and velocities())
        self._cache: dict[str, tuple[tuple[int, int], np.ndarray]] = {}
        self._starts = [EventStarts.initial(spec) for spec in self.specs]
        self._profiles = [
            RecordedProfile.of(spec.replay, path)
            if spec.behavior == "reactive" and spec.replay is not None and path is not None
            else None
            for spec, path in zip(self.specs, self._paths, strict=True)
        ]
        # reactive agents' paths, projected on together (`_reactive_leaders`): agent i's is
        # polyline _path_slot[i] of _reactive_index
        self._reactive = np.array([p is not None for p in self._profiles], dtype=bool)
        self._path_slot = np.cumsum(self._reactive) - 1
        reactive_paths = [
            p
            for p, profile in zip(self._paths, self._profiles, strict=True)
            if profile is not None and p is not None
        ]
        self._reactive_index = PolylineIndex(reactive_paths) if reactive_paths else None
        # reactive agents: 0 before their first recorded time, 1 driving, 2 past their path's end
        self._phase = np.zeros(len(self.specs), dtype=np.int8)
        self._recorded_cache: tuple[int, _Poses] | None = None  # (tick, poses)
        self._light_rules = [_light_rule(spec) for spec in self.specs]
        self._sign_rules = [_sign_rule(spec) for spec in self.specs]
        # per agent, its sign stops (indices) whose line it has left released and clear
        self._signs_gone: list[set[int]] = [set() for _ in self.specs]
        # the all-way stops' arrival orders, one per junction shared by the agents (order_key)
        self._orders: dict[tuple[tuple[str, str], ...], ArrivalOrder] = {}
        for spec in self.specs:
            for stop in spec.sign_stops:
                if stop.lines and order_key(stop) not in self._orders:
                    self._orders[order_key(stop)] = ArrivalOrder(stop.lines, STOP_WINDOW_M)
        self._actors_cache: tuple[int, _Actors] | None = None  # (tick, actors)
        self.state = self._initial_state()

    @property
    def obeys_lights(self) -> bool:
        """Does an agent have light stops (so that :meth:`step` needs the lights' states)?"""
        return any(rule is not None for rule in self._light_rules)

    @property
    def size_m(self) -> np.ndarray:
        """``(A, 3)`` length, width, height."""
        return np.array([s.size_m for s in self.specs], dtype=np.float64).reshape(-1, 3)

    @property
    def labels(self) -> np.ndarray:
        return np.array([int(s.label) for s in self.specs], dtype=np.int64)

    def _cached(self, name: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A fresh copy of ``compute()`` (``boxes`` / ``velocities``), computed once per tick:
        the cache holds until ``step``/``reset`` change the state (which is only changed there)."""
        key = (self._tick, id(self.state))
        hit = self._cache.get(name)
        if hit is None or hit[0] != key:
            hit = (key, compute())
            self._cache[name] = hit
        return hit[1].copy()

    def reset(self) -> None:
        self.time_s = 0.0
        self._tick += 1
        self._starts = [EventStarts.initial(spec) for spec in self.specs]
        self._phase[:] = 0
        for rule in self._light_rules:
            if rule is not None:
                rule.reset()
        for sign in self._sign_rules:
            if sign is not None:
                sign.reset()
        for gone in self._signs_gone:
            gone.clear()
        for order in self._orders.values():
            order.reset()
        self.state = self._initial_state()

    def _initial_state(self) -> AgentsState:
        n = len(self.specs)
        st = AgentsState(
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n),
            np.zeros(n, dtype=bool),
            np.zeros(n),
            np.zeros(n),
        )
        for i, spec in enumerate(self.specs):
            st.station_m[i] = spec.station_m
            st.speed_mps[i] = spec.speed_mps
            st.offset_m[i] = _offset_at(spec, 0.0, self._starts[i])
        self._place(st, 0.0)
        return st

    def _place(self, st: AgentsState, time_s: float) -> None:
        for i, spec in enumerate(self.specs):
            if spec.behavior == "replay":
                tr = spec.replay
                assert tr is not None
                inside = tr.time_s[0] - 1e-9 <= time_s <= tr.time_s[-1] + 1e-9
                st.valid[i] = inside
                if inside:
                    st.x_m[i] = np.interp(time_s, tr.time_s, tr.x_m)
                    st.y_m[i] = np.interp(time_s, tr.time_s, tr.y_m)
                    yaw = float(np.interp(time_s, tr.time_s, tr.yaw_rad))
                    st.yaw_rad[i] = math.remainder(yaw, 2 * math.pi)
                    st.speed_mps[i] = np.interp(time_s, tr.time_s, tr.speed_mps)
                continue
            if spec.behavior == "reactive":
                self._place_reactive(st, i, time_s)  # on its path below, with the others
                continue
            path = self._paths[i]
            assert path is not None
            s = st.station_m[i]
            xy, heading = interpolate_polyline(path, [s])
            off = _offset_at(spec, time_s, self._starts[i])
            off_ahead = _offset_at(spec, time_s + 0.1, self._starts[i])
            ds = max(st.speed_mps[i] * 0.1, 1e-3)
            slip = math.atan2(off_ahead - off, ds) if st.speed_mps[i] > 0.05 else 0.0
            h = float(heading[0])
            st.x_m[i] = xy[0, 0] - off * math.sin(h)
            st.y_m[i] = xy[0, 1] + off * math.cos(h)
            st.yaw_rad[i] = math.remainder(h + slip, 2 * math.pi)
            st.offset_m[i] = off
            st.valid[i] = s <= self._path_len[i] + 50.0  # path agents leave the scene past the end
        if self._reactive_index is None:
            return
        driving = np.flatnonzero(self._reactive & st.valid)
        if len(driving):
            xy, heading = self._reactive_index.interpolate(
                np.minimum(st.station_m[driving], self._path_len[driving]), self._path_slot[driving]
            )
            st.x_m[driving], st.y_m[driving] = xy[:, 0], xy[:, 1]
            st.yaw_rad[driving] = [math.remainder(h, 2 * math.pi) for h in heading.tolist()]

    def _place_reactive(self, st: AgentsState, i: int, time_s: float) -> None:
        """Reactive agent i at ``time_s``: it appears at its first recorded time (at its
        recorded station and speed), is driving (valid; :meth:`_place` puts it on its path),
        and leaves at the path's end once its recorded time span is over (a car recorded
        standing at the end of its path until then stays there)."""
        profile = self._profiles[i]
        assert profile is not None
        if self._phase[i] == 0 and time_s >= profile.time_s[0] - 1e-9:
            self._phase[i] = 1
            st.station_m[i] = profile.station_at(time_s)
            st.speed_mps[i] = profile.speed_at(time_s)
        at_end = st.station_m[i] >= self._path_len[i] - PATH_END_TOLERANCE_M
        if self._phase[i] == 1 and at_end and time_s > profile.time_s[-1] + 1e-9:
            self._phase[i] = 2
        st.valid[i] = self._phase[i] == 1
        st.offset_m[i] = 0.0

    def step(
        self,
        dt_s: float,
        ego_box: np.ndarray,
        ego_speed_mps: float,
        traffic_lights: tuple[tuple[str, str], ...] = (),
    ) -> AgentsState:
        """Advance by ``dt_s``. ``ego_box (7,)`` and the ego speed feed the agents that react
        to the ego (IDM's leader, a reactive agent's, an agent giving way at its stop sign);
        ``traffic_lights``, what the lights show now (``(light_id, state)`` pairs as
        ``World.traffic_light_states()``; a light not listed is unknown, so go), the ``idm``
        agents with light stops (module docstring)."""
        self._tick += 1
        st = self.state
        for i, spec in enumerate(self.specs):
            if st.valid[i] and self._starts[i].waiting:
                distance = math.hypot(st.x_m[i] - ego_box[0], st.y_m[i] - ego_box[1])
                ahead = functools.partial(self._ahead_of_ego_m, i, ego_box)
                self._starts[i].fire(spec, self.time_s, distance, ahead)
        accel = np.zeros(len(self.specs))
        leaders = self._reactive_leaders(ego_box, ego_speed_mps)  # the state is fixed till below
        if self._orders:
            self._observe_arrivals(ego_box, ego_speed_mps)
        for i, spec in enumerate(self.specs):
            if spec.behavior == "scripted":
                accel[i] = _scripted_accel(
                    spec, self.time_s, float(st.speed_mps[i]), dt_s, self._starts[i]
                )
            elif spec.behavior == "idm":
                gap, lead_speed = self._leader(i, ego_box, ego_speed_mps)
                accel[i] = float(
                    idm_acceleration(
                        st.speed_mps[i], spec.desired_speed_mps, gap, lead_speed, spec.idm
                    )
                )
                rule = self._light_rules[i]
                if rule is not None:
                    accel[i] = min(accel[i], self._light_accel(i, rule, traffic_lights))
                sign = self._sign_rules[i]
                if sign is not None:
                    accel[i] = min(accel[i], self._sign_accel(i, sign, ego_box, ego_speed_mps))
            elif spec.behavior == "reactive" and st.valid[i]:
                accel[i] = self._reactive_accel(i, dt_s, leaders[i])
        new_speed = np.maximum(st.speed_mps + accel * dt_s, 0.0)
        st.station_m = st.station_m + 0.5 * (st.speed_mps + new_speed) * dt_s
        st.speed_mps = np.where(self._replayed, st.speed_mps, new_speed)
        self.time_s += dt_s
        self._place(st, self.time_s)
        self._tick += 1
        return st

    def _ahead_of_ego_m(self, i: int, ego_box: np.ndarray) -> float:
        """Agent i's station minus the ego centre's station projected on agent i's path."""
        path = self._paths[i]
        assert path is not None
        ego_station, _ = project_to_polyline(path, ego_box[None, :2])
        return float(self.state.station_m[i] - ego_station[0])

    def _leader(self, i: int, ego_box: np.ndarray, ego_speed_mps: float) -> tuple[float, float]:
        """Gap (m, bumper to bumper) and speed of the nearest actor ahead in agent i's corridor
        (the other agents present and the ego)."""
        st = self.state
        path = self._paths[i]
        assert path is not None
        xy, yaw, speed, _, present, size = self._actors(ego_box, ego_speed_mps)
        others = present.copy()  # the other agents present, then the ego
        others[i] = False
        s, d = project_to_polyline(path, xy[others])
        return nearest_ahead(
            path, st.station_m[i], st.offset_m[i], self.specs[i].size_m, s, d,
            yaw[others], speed[others], size[others],
        )  # fmt: skip

    def _light_accel(
        self, i: int, rule: LightStopRule, traffic_lights: tuple[tuple[str, str], ...]
    ) -> float:
        """Idm agent i's acceleration for its lights (``inf`` when it need not stop): the
        planners' light-stop law (:func:`~drivestack.planning.proposals.light_stop_accel`)
        towards its stop point ``idm.min_gap_m`` before the line ``rule`` says it must stop
        at, at the decision's constant deceleration; past the line, ``rule.max_decel_mps2``."""
        st = self.state
        station, speed = float(st.station_m[i]), float(st.speed_mps[i])
        decision = rule.step(traffic_lights, station, speed)
        if decision.station_m is None or decision.decel_mps2 is None:
            return math.inf
        return self._stop_accel(i, decision.station_m, decision.decel_mps2, rule)

    def _stop_accel(
        self,
        i: int,
        line_station_m: float,
        decel_mps2: float,
        rule: LightStopRule | StopSignRule,
    ) -> float:
        """Agent i's acceleration for a stop at the line at ``line_station_m`` along its path:
        the planners' light-stop law (:func:`~drivestack.planning.proposals.light_stop_accel`)
        towards its stop point ``rule.stop_gap_m`` before the line, its front
        ``rule.front_offset_m`` ahead of its station, at the constant deceleration
        ``decel_mps2``; past the line, ``rule.max_decel_mps2``."""
        st = self.state
        speed = float(st.speed_mps[i])
        room_m = line_station_m - (float(st.station_m[i]) + rule.front_offset_m)
        return float(
            light_stop_accel(
                speed,
                room_m,
                rule.stop_gap_m,
                decel_mps2,
                LIGHT_STOP_GAIN_PER_S,
                rule.max_decel_mps2,
            )
        )

    def _sign_accel(
        self, i: int, rule: StopSignRule, ego_box: np.ndarray, ego_speed_mps: float
    ) -> float:
        """Idm agent i's acceleration for its stop signs (``inf`` when it need not stop; module
        docstring): towards the line ``rule`` says it must stop at (the planners' stop law at
        the decision's deceleration, :meth:`_stop_accel`), and, at a line released but not
        yet left, held there (at ``idm.comfort_decel_mps2``) until the way is clear
        (:func:`~drivestack.sim.give_way.blocking_actor`); from then on it goes."""
        st = self.state
        station, speed = float(st.station_m[i]), float(st.speed_mps[i])
        decision = rule.step(station, speed, round(self.time_s * 1e9))
        accel = math.inf
        if decision.station_m is not None and decision.decel_mps2 is not None:
            accel = self._stop_accel(i, decision.station_m, decision.decel_mps2, rule)
        released = list(rule.released)  # sign ids, in station order
        front_m = station + rule.front_offset_m
        conflicts = self.specs[i].sign_conflicts
        for j, stop in enumerate(rule.stops):
            if stop.sign_id not in released:
                continue
            released.remove(stop.sign_id)
            gone = self._signs_gone[i]
            if j in gone or stop.station_m - front_m < -FRONT_TOLERANCE_M:
                continue  # left, or behind it
            clear = self._way_clear(i, conflicts[j] if conflicts else (), ego_box, ego_speed_mps)
            if clear and self._first_to_go(i, stop):
                gone.add(j)
                continue
            hold = self._stop_accel(i, stop.station_m, rule.comfort_decel_mps2, rule)
            return min(accel, hold)
        return accel

    def _observe_arrivals(self, ego_box: np.ndarray, ego_speed_mps: float) -> None:
        """Feed the all-way stops' arrival orders the agents present and the ego (id
        :data:`~drivestack.planning.stop_signs.EGO_ACTOR_ID`), as now."""
        xy, yaw, speed, length, valid, _ = self._actors(ego_box, ego_speed_mps)
        ids = [spec.agent_id for spec, here in zip(self.specs, valid, strict=False) if here]
        ids.append(EGO_ACTOR_ID)
        now_ns = round(self.time_s * 1e9)
        for order in self._orders.values():
            order.observe(ids, xy[valid], yaw[valid], speed[valid], length[valid], now_ns)

    def _first_to_go(self, i: int, stop: RouteSignStop) -> bool:
        """Whether agent i, released at sign stop ``stop``, may go by its all-way stop's
        arrival order (no actor that came to a stop at another line before it is still there
        or in the junction: :meth:`~drivestack.planning.stop_signs.ArrivalOrder.first_ahead`);
        always at a two-way stop."""
        order = self._orders.get(order_key(stop))
        if order is None:
            return True
        now_ns = round(self.time_s * 1e9)
        return order.first_ahead_at(self.specs[i].agent_id, stop.lane_id, now_ns) is None

    def _way_clear(
        self,
        i: int,
        conflicts: tuple[Conflict, ...],
        ego_box: np.ndarray,
        ego_speed_mps: float,
    ) -> bool:
        """Whether no actor (the other agents present and the ego) holds up agent i at
        ``conflicts`` (:func:`~drivestack.sim.give_way.blocking_actor`)."""
        if not conflicts:
            return True
        xy, yaw, speed, length, valid, _ = self._actors(ego_box, ego_speed_mps)
        others = valid.copy()
        others[i] = False
        clear_m = 0.5 * self.specs[i].size_m[1]
        return (
            blocking_actor(
                conflicts, xy[others], yaw[others], speed[others], length[others], clear_m
            )
            is None
        )

    def _actors(self, ego_box: np.ndarray, ego_speed_mps: float) -> _Actors:
        """Every agent, then the ego: centres ``(A + 1, 2)``, yaw, speed, length and whether
        present ``(A + 1,)`` and length and width ``(A + 1, 2)``, as now (computed once per
        tick; not to be modified)."""
        hit = self._actors_cache
        if hit is not None and hit[0] == self._tick:
            return hit[1]
        st = self.state
        actors = (
            np.concatenate([np.stack([st.x_m, st.y_m], axis=1), ego_box[None, :2]]),
            np.append(st.yaw_rad, ego_box[6]),
            np.append(st.speed_mps, ego_speed_mps),
            np.append(self._size_m[:, 0], ego_box[3]),
            np.append(st.valid, True),
            np.concatenate([self._size_m[:, :2], ego_box[None, 3:5]]),
        )
        self._actors_cache = (self._tick, actors)
        return actors

    def _reactive_leaders(
        self, ego_box: np.ndarray, ego_speed_mps: float
    ) -> dict[int, tuple[tuple[float, float], tuple[float, float]]]:
        """Each present reactive agent i's leader (gap, speed) now and as recorded now, each
        among the actors within :data:`LEADER_RANGE_M`: now as :meth:`_leader`, from its
        station to the other agents present and the ego; as recorded, from its recorded
        station to the other recorded agents where they were recorded (no ego: it is not in
        the recording). Computed for all of them at once, each as :func:`nearest_ahead`
        would (the same arithmetic): every (agent, actor) pair projected on the agent's path
        in one :meth:`~drivestack.structures.road_map.PolylineIndex.project` call."""
        st, index = self.state, self._reactive_index
        if index is None:
            return {}
        agents = np.flatnonzero(self._reactive & st.valid)
        if len(agents) == 0:
            return {}
        # now: the agents (columns 0..n-1) and the ego (column n)
        xy = np.concatenate([np.stack([st.x_m, st.y_m], axis=1), ego_box[None, :2]])
        live = _in_leader_range(agents, xy, np.append(st.valid, True))
        # as recorded
        rec_xy, rec_yaw, rec_speed, rec_valid = self._recorded_poses()
        rec = _in_leader_range(agents, rec_xy, rec_valid)
        now_row, now_col = np.nonzero(live)  # by agent, then by actor (as nearest_ahead's)
        rec_row, rec_col = np.nonzero(rec)
        row = np.concatenate([now_row, rec_row])
        s, d = index.project(
            np.concatenate([xy[now_col], rec_xy[rec_col]]), self._path_slot[agents][row]
        )
        size = np.concatenate([self._size_m[:, :2], [ego_box[3:5]]])
        own_size = self._size_m[agents, :2]
        profiles = [self._profiles[i] for i in agents.tolist()]  # all set: reactive agents
        rec_station = np.array([p.station_at(self.time_s) for p in profiles if p is not None])
        k = len(now_row)
        now = self._nearest_ahead_all(
            agents,
            own_size,
            now_row,
            st.station_m[agents],
            st.offset_m[agents],
            s[:k],
            d[:k],
            np.append(st.yaw_rad, ego_box[6])[now_col],
            np.append(st.speed_mps, ego_speed_mps)[now_col],
            size[now_col],
        )
        recorded = self._nearest_ahead_all(
            agents,
            own_size,
            rec_row,
            rec_station,
            np.zeros(len(agents)),
            s[k:],
            d[k:],
            rec_yaw[rec_col],
            rec_speed[rec_col],
            self._size_m[rec_col, :2],
        )
        return {
            i: pair
            for i, pair in zip(agents.tolist(), zip(now, recorded, strict=True), strict=True)
        }

    def _nearest_ahead_all(
        self,
        agents: np.ndarray,
        own_size_m: np.ndarray,
        row: np.ndarray,
        station_m: np.ndarray,
        offset_m: np.ndarray,
        actor_station_m: np.ndarray,
        actor_lateral_m: np.ndarray,
        yaw_rad: np.ndarray,
        speed_mps: np.ndarray,
        size_m: np.ndarray,
    ) -> list[tuple[float, float]]:
        """:func:`nearest_ahead` for the reactive ``agents (R,)`` at once (same arithmetic),
        each at ``station_m``, ``offset_m (R,)`` with length / width ``own_size_m (R, 2)``,
        among the actors of the pairs of ``row (K,)`` (an index into ``agents``, in order)
        given by their Frenet coordinates on the agent's path, ``yaw_rad``, ``speed_mps
        (K,)`` and length / width ``size_m (K, 2)``."""
        out = [(math.inf, 0.0)] * len(agents)
        s, d = actor_station_m, actor_lateral_m
        own_l, own_w = own_size_m[row, 0], own_size_m[row, 1]
        ahead = (s > station_m[row]) & (
            np.abs(d - offset_m[row]) < 0.5 * (own_w + size_m[:, 1]) + 0.3
        )
        if not np.any(ahead):
            return out
        gaps = np.where(ahead, s - station_m[row] - 0.5 * (own_l + size_m[:, 0]), np.inf)
        row, gaps, k_all = row[ahead], gaps[ahead], np.flatnonzero(ahead)
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        best = np.minimum.reduceat(gaps, starts)
        at_best = np.flatnonzero(gaps == np.repeat(best, np.diff(np.r_[starts, len(row)])))
        first = at_best[np.r_[True, row[at_best[1:]] != row[at_best[:-1]]]]  # the first of ties
        k, lead_row = k_all[first], row[first]
        index = self._reactive_index
        assert index is not None
        _, heading = index.interpolate(s[k], self._path_slot[agents[lead_row]])
        along = speed_mps[k] * np.cos(yaw_rad[k] - heading)
        for r, gap, v in zip(lead_row.tolist(), gaps[first].tolist(), along.tolist(), strict=True):
            out[r] = (gap, v)
        return out

    def _recorded_poses(self) -> _Poses:
        """Every agent's recorded ``xy (A, 2)``, ``yaw``, ``speed`` and ``valid (A,)`` now
        (valid inside its replay track's span; agents without one never). A replayed agent
        is where its state is (its yaw unwrapped, as recorded); a reactive agent where it
        would be undisturbed: on its path at its recorded station, with its path heading and
        recorded along-path speed (its pose given outside its span too, where it was recorded
        last or first). Computed once per tick (the arrays must not be modified)."""
        hit = self._recorded_cache
        if hit is not None and hit[0] == self._tick:
            return hit[1]
        st, time_s = self.state, self.time_s
        xy, speed = np.stack([st.x_m, st.y_m], axis=1), st.speed_mps.copy()
        yaw = np.zeros(len(self.specs))
        valid = self._replayed & st.valid
        for j in np.flatnonzero(valid).tolist():
            tr = self.specs[j].replay
            assert tr is not None
            yaw[j] = np.interp(time_s, tr.time_s, tr.yaw_rad)
        reactive = np.flatnonzero(self._reactive)
        stations = np.zeros(len(reactive))
        for k, j in enumerate(reactive.tolist()):
            profile = self._profiles[j]
            assert profile is not None
            valid[j] = profile.time_s[0] - 1e-9 <= time_s <= profile.time_s[-1] + 1e-9
            stations[k] = profile.station_at(time_s)
            speed[j] = profile.speed_at(time_s)
        if len(reactive):
            assert self._reactive_index is not None
            xy[reactive], yaw[reactive] = self._reactive_index.interpolate(
                stations, self._path_slot[reactive]
            )
        self._recorded_cache = (self._tick, (xy, yaw, speed, valid))
        return xy, yaw, speed, valid

    def _reactive_accel(
        self, i: int, dt_s: float, leaders: tuple[tuple[float, float], tuple[float, float]]
    ) -> float:
        """Reactive agent i's acceleration (module docstring): the recording's, plus the
        regain of the recorded speed, plus IDM braking when the situation ahead is tighter
        than recorded (at most ``max_decel_mps2`` more than the recording brakes: IDM's own
        clip)."""
        profile = self._profiles[i]
        assert profile is not None
        params = self.specs[i].idm
        t, v = self.time_s, float(self.state.speed_mps[i])
        v_rec = profile.speed_at(t)
        regain = (v_rec - v) / SPEED_TAU_S
        free = (profile.speed_at(t + dt_s) - v_rec) / dt_s + min(
            max(regain, -params.comfort_decel_mps2), params.max_accel_mps2
        )
        (gap, lead), (gap_rec, lead_rec) = leaders
        # no free-road term (desired speed inf): the difference is the interaction alone
        idm = idm_acceleration(v, math.inf, [gap, gap_rec], [lead, lead_rec], params)
        return free + min(0.0, float(idm[0] - idm[1]))

    def boxes(self) -> np.ndarray:
        """``(A, 7)`` boxes of all agents (invalid ones included; mask with ``state.valid``)."""
        return self._cached("boxes", self._boxes)

    def _boxes(self) -> np.ndarray:
        st = self.state
        size = self._size_m
        return np.stack(
            [st.x_m, st.y_m, size[:, 2] / 2, size[:, 0], size[:, 1], size[:, 2], st.yaw_rad], axis=1
        )

    def velocities(self) -> np.ndarray:
        """``(A, 2)`` velocity vectors (m/s)."""
        return self._cached("velocities", self._velocities)

    def _velocities(self) -> np.ndarray:
        st = self.state
        return np.stack(
            [st.speed_mps * np.cos(st.yaw_rad), st.speed_mps * np.sin(st.yaw_rad)], axis=1
        )
