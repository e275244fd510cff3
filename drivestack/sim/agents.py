"""Simulated traffic: log-replayed tracks, reactive IDM lane followers and scripted manoeuvres.

Path agents (``idm`` and ``scripted``) move along a polyline ``path_m`` at a station with a
lateral offset (positive left). Their speed comes from IDM (reactive: it follows whatever is
ahead in its corridor, ego included) or from ``speed_events`` (scripted: braking profiles,
a pedestrian starting to walk). ``lateral_shifts`` move the offset along a smooth cosine
profile (cut-in, cut-out, lane change). ``replay`` agents interpolate a recorded track and
ignore everyone (non-reactive), and exist only inside the track's time span.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from drivestack.planning.idm import IDMParams, idm_acceleration
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import (
    interpolate_polyline,
    polyline_stations,
    project_to_polyline,
)

BEHAVIORS = ("idm", "scripted", "replay")


@dataclass(frozen=True)
class SpeedEvent:
    """From its start on, change speed at ``|accel_mps2|`` until ``target_speed_mps``.

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

    def __post_init__(self) -> None:
        if self.behavior not in BEHAVIORS:
            raise ValueError(
                f"agent {self.agent_id!r}: behavior must be one of {BEHAVIORS}, got {self.behavior!r}"
            )
        if self.behavior == "replay" and self.replay is None:
            raise ValueError(f"agent {self.agent_id!r}: a replay agent needs a replay track")
        if self.behavior != "replay" and self.path_m is None:
            raise ValueError(f"agent {self.agent_id!r}: a {self.behavior} agent needs a path")


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
    event = max(active, key=lambda p: p[0])[1]
    diff = event.target_speed_mps - speed_mps
    if abs(diff) < 1e-9:
        return 0.0
    rate = abs(event.accel_mps2)
    return math.copysign(min(rate, abs(diff) / dt_s), diff)


def _read_only(path_m: np.ndarray | None) -> np.ndarray | None:
    """A read-only copy of a path (same values and dtype), so that the road-map helpers may
    memoise its stations."""
    if path_m is None:
        return None
    out = np.array(path_m)
    out.setflags(write=False)
    return out


class Traffic:
    """Stage holding every agent's state; ``step`` advances all agents by one tick."""

    def __init__(self, specs: list[AgentSpec]) -> None:
        self.specs = list(specs)
        self._paths = [_read_only(spec.path_m) for spec in self.specs]
        self._path_len = [
            float(polyline_stations(p)[-1]) if p is not None else 0.0 for p in self._paths
        ]
        self.time_s = 0.0
        self._tick = 0  # counts steps and resets (the cache key of boxes() and velocities())
        self._cache: dict[str, tuple[tuple[int, int], np.ndarray]] = {}
        self._starts = [EventStarts.initial(spec) for spec in self.specs]
        self.state = self._initial_state()

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

    def step(self, dt_s: float, ego_box: np.ndarray, ego_speed_mps: float) -> AgentsState:
        """Advance by ``dt_s``. ``ego_box (7,)`` and the ego speed feed the reactive agents."""
        self._tick += 1
        st = self.state
        for i, spec in enumerate(self.specs):
            if st.valid[i] and self._starts[i].waiting:
                distance = math.hypot(st.x_m[i] - ego_box[0], st.y_m[i] - ego_box[1])
                ahead = functools.partial(self._ahead_of_ego_m, i, ego_box)
                self._starts[i].fire(spec, self.time_s, distance, ahead)
        accel = np.zeros(len(self.specs))
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
        new_speed = np.maximum(st.speed_mps + accel * dt_s, 0.0)
        st.station_m = st.station_m + 0.5 * (st.speed_mps + new_speed) * dt_s
        st.speed_mps = np.where(
            [s.behavior == "replay" for s in self.specs], st.speed_mps, new_speed
        )
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
        """Gap (m, bumper to bumper) and speed of the nearest actor ahead in agent i's corridor."""
        st = self.state
        path = self._paths[i]
        assert path is not None
        others = [j for j in range(len(self.specs)) if j != i and st.valid[j]]
        xy = (
            np.concatenate([st.x_m[others, None], st.y_m[others, None]], axis=1)
            if others
            else np.zeros((0, 2))
        )
        xy = np.concatenate([xy, ego_box[None, :2]])
        yaw = np.concatenate([st.yaw_rad[others], [ego_box[6]]])
        speed = np.concatenate([st.speed_mps[others], [ego_speed_mps]])
        size = np.concatenate([self.size_m[others, :2], [ego_box[3:5]]])
        s, d = project_to_polyline(path, xy)
        own_l, own_w = self.specs[i].size_m[0], self.specs[i].size_m[1]
        _, heading = interpolate_polyline(path, s)
        along = speed * np.cos(yaw - heading)
        ahead = (s > st.station_m[i]) & (
            np.abs(d - st.offset_m[i]) < 0.5 * (own_w + size[:, 1]) + 0.3
        )
        if not np.any(ahead):
            return math.inf, 0.0
        gaps = np.where(ahead, s - st.station_m[i] - 0.5 * (own_l + size[:, 0]), np.inf)
        k = int(np.argmin(gaps))
        return float(gaps[k]), float(along[k])

    def boxes(self) -> np.ndarray:
        """``(A, 7)`` boxes of all agents (invalid ones included; mask with ``state.valid``)."""
        return self._cached("boxes", self._boxes)

    def _boxes(self) -> np.ndarray:
        st = self.state
        size = self.size_m
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
