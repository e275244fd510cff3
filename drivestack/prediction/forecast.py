"""Agent forecasts: future boxes over a fixed horizon.

A forecast holds ``boxes (A, T+1, 7)`` and ``speed_mps (A, T+1)`` at times ``k * dt_s`` for
``k = 0..T`` (index 0 is the observed state). ``T = horizon_s / dt_s`` when the horizon is a
whole number of steps (to 1e-9 relative), otherwise ``ceil(horizon_s / dt_s)``: the forecast
always covers the horizon, its last step reaching less than one ``dt_s`` past it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from drivestack.core.arrays import read_only
from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import wrap_angle
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures.boxes import Boxes3D, require_boxes3d
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import Lane, RoadMap, interpolate_polyline, polyline_stations

#: The vehicle classes (the forecasters' and the prediction eval's "vehicle" group).
VEHICLE_CLASSES: tuple[ObjectClass, ...] = (
    ObjectClass.CAR,
    ObjectClass.VAN,
    ObjectClass.TRUCK,
    ObjectClass.BUS,
    ObjectClass.MOTORCYCLE,
    ObjectClass.OTHER_VEHICLE,
)
#: The class groups forecast (the learned forecaster's class input, the prediction eval's
#: reporting groups), in that order; other classes belong to none.
CLASS_GROUPS: dict[str, tuple[ObjectClass, ...]] = {
    "vehicle": VEHICLE_CLASSES,
    "pedestrian": (ObjectClass.PEDESTRIAN,),
    "cyclist": (ObjectClass.CYCLIST,),
}
#: The classes that follow lanes (vehicles), as ``int`` labels: the map-based forecasts move
#: only these along lanes.
LANE_FOLLOWERS: frozenset[int] = frozenset(int(c) for c in VEHICLE_CLASSES)


@dataclass(frozen=True, eq=False)
class Forecast(ArrayValueEquality):
    """Future boxes of ``A`` agents at times ``k * dt_s``, ``k = 0..T`` (0: the observed state).

    Attributes:
        dt_s: the time step, seconds; finite and > 0.
        boxes: ``(A, T+1, 7)`` float32 or float64 ``[x, y, z, length, width, height, yaw]``
            per agent and step, in the agents' frame; finite, sizes >= 0; yaws kept as given
            (not wrapped, unlike :class:`~drivestack.structures.boxes.Boxes3D`: a turning
            forecast's yaw may run past pi).
        speed_mps: ``(A, T+1)`` float32 or float64 speeds, finite. Its sign depends on the producer:
            :func:`constant_velocity_forecast` gives the velocity's magnitude (>= 0);
            :func:`lane_following_forecast` the speed signed along the box heading for lane
            followers (negative when reversing).

        frame: the frame the boxes are in (the agents' ``Boxes3D.frame``), None when the
            producer did not say (a forecast read from an older log); the built-in
            forecasts take their agents'.
        timestamp_ns: the time of step 0 (the agents' ``Boxes3D.timestamp_ns``), None as
            ``frame``. The :class:`~drivestack.pipeline.Stack` refuses a forecast whose frame
            or time is given and differs from its tracks'.

    Both arrays are kept read-only (the caller's writeable arrays copied first).

    Raises:
        ValueError: a field has another shape, ``boxes`` and ``speed_mps`` disagree on ``A``
            or ``T+1``, a value is not finite, a size is negative, or ``dt_s`` is not a
            finite number > 0.
    """

    dt_s: float
    boxes: np.ndarray  # (A, T+1, 7)
    speed_mps: np.ndarray  # (A, T+1), see the class docstring for its sign
    frame: str | None = None
    timestamp_ns: int | None = None

    def __post_init__(self) -> None:
        dt = self.dt_s
        if isinstance(dt, bool) or not isinstance(dt, int | float | np.floating | np.integer):
            raise TypeError(f"Forecast.dt_s must be a number of seconds, got {type(dt).__name__}")
        if not (math.isfinite(dt) and dt > 0.0):
            raise ValueError(f"Forecast.dt_s must be a finite time step > 0 s, got {dt!r}")
        boxes, speed = self.boxes, self.speed_mps
        for name, arr, ndim in (("boxes", boxes, 3), ("speed_mps", speed, 2)):
            if not isinstance(arr, np.ndarray):
                raise TypeError(f"Forecast.{name} must be a NumPy array, got {type(arr).__name__}")
            if arr.dtype not in (np.float32, np.float64):  # (float16 would round positions)
                raise ValueError(
                    f"Forecast.{name} must be float32 or float64, got {arr.dtype}: cast it"
                )
            if arr.ndim != ndim:
                want = "(A, T+1, 7)" if ndim == 3 else "(A, T+1)"
                raise ValueError(f"Forecast.{name} must have shape {want}, got {arr.shape}")
        if boxes.shape[2] != 7 or boxes.shape[1] < 1:
            raise ValueError(f"Forecast.boxes must have shape (A, T+1, 7), got {boxes.shape}")
        if speed.shape != boxes.shape[:2]:
            raise ValueError(
                f"Forecast.speed_mps must have shape (A, T+1) = {boxes.shape[:2]} like boxes "
                f"{boxes.shape}, got {speed.shape}"
            )
        if boxes.size and not (np.isfinite(boxes).all() and np.isfinite(speed).all()):
            raise ValueError("Forecast.boxes or Forecast.speed_mps contains NaN or infinite values")
        if boxes.size and bool((boxes[..., 3:6] < 0).any()):
            raise ValueError(
                "Forecast.boxes has negative sizes (columns 3:6: length, width, height)"
            )
        if self.frame is not None and (not isinstance(self.frame, str) or not self.frame):
            raise TypeError(f"Forecast.frame must be a frame name or None, got {self.frame!r}")
        if self.timestamp_ns is not None:
            check_timestamp_ns(self.timestamp_ns, argument="Forecast.timestamp_ns")
        # frozen as every stage output: a copy of the caller's writeable arrays, read-only
        object.__setattr__(self, "boxes", read_only(boxes, boxes))
        object.__setattr__(self, "speed_mps", read_only(speed, speed))

    @property
    def n_steps(self) -> int:
        return int(self.boxes.shape[1]) - 1


#: Most steps a forecast may have (:func:`forecast_steps`): each agent's forecast holds
#: ``T + 1`` boxes, so a horizon of 1e9 s in 0.1 s steps would ask for tens of GiB per agent.
MAX_FORECAST_STEPS = 100_000


def forecast_steps(horizon_s: float, dt_s: float) -> int:
    """``T``, the number of steps that covers ``horizon_s`` (see the module doc); ``ValueError``
    naming the parameter unless ``dt_s > 0`` and ``horizon_s >= 0`` are finite, and naming
    both when ``T`` exceeds :data:`MAX_FORECAST_STEPS`."""
    if not (math.isfinite(dt_s) and dt_s > 0.0):
        raise ValueError(f"dt_s must be a finite time step > 0 s, got {dt_s!r}")
    if not (math.isfinite(horizon_s) and horizon_s >= 0.0):
        raise ValueError(f"horizon_s must be a finite duration >= 0 s, got {horizon_s!r}")
    ratio = horizon_s / dt_s
    whole = round(ratio)
    steps = int(whole) if abs(ratio - whole) <= 1e-9 * max(1.0, ratio) else math.ceil(ratio)
    if steps > MAX_FORECAST_STEPS:
        raise ValueError(
            f"horizon_s / dt_s must be at most {MAX_FORECAST_STEPS} steps, got horizon_s "
            f"{horizon_s!r} and dt_s {dt_s!r} ({steps} steps)"
        )
    return steps


def check_agents(agents: object, caller: str) -> None:
    """``TypeError`` naming ``caller`` unless ``agents`` is a :class:`Boxes3D` (for
    ``Tracks``, pass ``tracks.boxes``)."""
    require_boxes3d(agents, f"{caller}: agents")


def constant_velocity_forecast(agents: Boxes3D, horizon_s: float, dt_s: float) -> Forecast:
    """Each box moves with its ``velocity_mps`` and keeps its yaw; ``speed_mps`` is the
    velocity's magnitude, never negative (unlike :func:`lane_following_forecast`'s, which is
    signed along the heading). ``T = forecast_steps(horizon_s, dt_s)``."""
    check_agents(agents, "constant_velocity_forecast")
    n_steps = forecast_steps(horizon_s, dt_s)
    t = np.arange(n_steps + 1) * dt_s
    base = agents.to_array7()  # (A, 7)
    boxes = np.repeat(base[:, None, :], n_steps + 1, axis=1)
    boxes[:, :, 0] += agents.velocity_mps[:, None, 0] * t[None]
    boxes[:, :, 1] += agents.velocity_mps[:, None, 1] * t[None]
    speed = np.repeat(np.linalg.norm(agents.velocity_mps, axis=1)[:, None], n_steps + 1, axis=1)
    return Forecast(dt_s, boxes, speed, agents.frame, agents.timestamp_ns)


@dataclass(frozen=True)
class LaneMatch:
    """Where a lane follower sits on its lane (:func:`lane_matches`).

    Attributes:
        index: the agent's row in the ``Boxes3D``.
        lane: the lane it follows.
        station_m, lateral_m: its centre's projection on ``lane``'s centreline (the station
            may lie before its start or past its end).
        speed_mps: its velocity projected on its heading (negative when reversing).
    """

    index: int
    lane: Lane
    station_m: float
    lateral_m: float
    speed_mps: float


def lane_matches(
    agents: Boxes3D,
    road_map: RoadMap,
    *,
    min_speed_mps: float,
    max_lane_distance_m: float,
    max_heading_error_rad: float,
) -> Iterator[LaneMatch]:
    """The agents that follow a lane: vehicles (:data:`LANE_FOLLOWERS`) moving at least
    ``min_speed_mps`` along their heading whose nearest lane running their way
    (``RoadMap.nearest_lane`` with their yaw, within ``max_lane_distance_m``) is within
    ``max_heading_error_rad`` of their heading at their projection (clamped to the lane).

    ``agents`` must be in the map's frame (checked by the callers)."""
    yaw0 = agents.yaw_rad
    along = agents.velocity_mps[:, 0] * np.cos(yaw0) + agents.velocity_mps[:, 1] * np.sin(yaw0)
    for i in range(len(agents)):
        speed = float(along[i])
        if int(agents.label[i]) not in LANE_FOLLOWERS or abs(speed) < min_speed_mps:
            continue
        xy = agents.center_m[i, :2]
        try:
            lane_id = road_map.nearest_lane(
                xy, yaw_rad=float(yaw0[i]), max_distance_m=max_lane_distance_m
            )
        except LookupError:
            continue
        lane = road_map.lane(lane_id)
        station, lateral = (float(v[0]) for v in lane.project(xy[None]))
        _, heading = interpolate_polyline(
            lane.centerline_m, [min(max(station, 0.0), lane.length_m)]
        )
        if abs(math.remainder(float(heading[0]) - float(yaw0[i]), 2 * math.pi)) > (
            max_heading_error_rad
        ):
            continue
        yield LaneMatch(i, lane, station, lateral, speed)


def successor_chains(road_map: RoadMap, lane: Lane, need_m: float, limit: int) -> list[np.ndarray]:
    """Centrelines (``(N, 2)``, joined end to start) of the successor chains from ``lane``
    that reach ``need_m`` along it or end at a dead end, depth first in ``Lane.successors``
    order (the first is the first-successor chain), at most ``limit``; a chain never enters a
    lane twice."""
    out: list[np.ndarray] = []
    stack: list[tuple[np.ndarray, Lane, frozenset[str]]] = [
        (lane.centerline_m, lane, frozenset({lane.lane_id}))
    ]
    while stack and len(out) < limit:
        line, last, seen = stack.pop()
        nexts = [s for s in last.successors if s not in seen]
        if polyline_stations(line)[-1] >= need_m or not nexts:
            out.append(line)
            continue
        for succ in reversed(nexts):  # popped in successor order
            nxt = road_map.lane(succ)
            stack.append((np.concatenate([line, nxt.centerline_m[1:]]), nxt, seen | {nxt.lane_id}))
    return out


def follow_line(
    line_m: np.ndarray, match: LaneMatch, t_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(T+1, 2)`` positions and ``(T+1,)`` wrapped headings of ``match``'s agent driving
    at its speed along the centreline ``line_m`` at times ``t_s``, keeping its lateral offset
    (straight on past either end of the line)."""
    pos, yaw = interpolate_polyline(line_m, match.station_m + match.speed_mps * t_s)
    pos = pos + match.lateral_m * np.stack([-np.sin(yaw), np.cos(yaw)], axis=1)
    return pos, wrap_angle(yaw)


def lane_chains(
    road_map: RoadMap, match: LaneMatch, horizon_s: float, limit: int
) -> list[np.ndarray]:
    """The centrelines ``match``'s agent may follow over ``horizon_s``: its lane alone when it
    reverses, else :func:`successor_chains` covering the distance it drives."""
    if match.speed_mps < 0:
        return [match.lane.centerline_m]
    need = match.station_m + match.speed_mps * horizon_s
    return successor_chains(road_map, match.lane, need, limit)


def lane_following_forecast(
    agents: Boxes3D,
    road_map: RoadMap,
    horizon_s: float,
    dt_s: float,
    min_speed_mps: float = 1.0,
    max_heading_error_rad: float = math.pi / 4,
) -> Forecast:
    """Vehicles moving at least ``min_speed_mps`` follow their lane's centreline (first
    successor at each lane end) at constant speed; everyone else moves at constant velocity.

    ``agents`` must be in the map's frame (``agents.frame == road_map.frame``). A vehicle's
    lane is the nearest running its way within 3 m (:func:`lane_matches`); when that lane's
    heading is more than ``max_heading_error_rad`` off the vehicle's (a car crossing an
    intersection, matched to a crossing lane: seen on Argoverse 2, 87-89 degrees off, 25-40 m
    errors at 3 s) it moves at constant velocity instead. A lane
    follower keeps its lateral offset from the centreline and gets the centreline's heading,
    wrapped to ``[-pi, pi)`` like every yaw (so at index 0 it has its observed position and
    the centreline's heading there, which is its observed yaw when it drives along the lane). At a dead end (a lane with no successor) the centreline is extrapolated
    straight along its last segment: the forecast drives on past the lane's end, off the
    drivable area, at the same speed (it is not stopped or marked invalid there).

    ``speed_mps`` differs by agent: a lane follower's is signed, its velocity projected on its
    box heading, so a car reversing (velocity against its yaw) moves backwards along the lane
    (extrapolated along the lane's first segment past its start) and its ``speed_mps`` is
    negative; every other agent's is :func:`constant_velocity_forecast`'s, the velocity's
    magnitude (>= 0, whatever the heading).

    Raises:
        TypeError: ``agents`` is not a ``Boxes3D`` or ``road_map`` not a ``RoadMap``.
        ValueError: the agents' frame is not the map's; the horizon and step as
            :func:`forecast_steps`; ``min_speed_mps`` is not a finite speed >= 0 or
            ``max_heading_error_rad`` not a finite angle in [0, pi].
    """
    check_agents(agents, "lane_following_forecast")
    check_lane_arguments(
        agents, road_map, "lane_following_forecast", min_speed_mps, max_heading_error_rad
    )
    forecast = constant_velocity_forecast(agents, horizon_s, dt_s)
    boxes = forecast.boxes.copy()
    speeds = forecast.speed_mps.copy()
    t = np.arange(forecast.n_steps + 1) * dt_s
    for match in lane_matches(
        agents, road_map, min_speed_mps=min_speed_mps, max_lane_distance_m=3.0,
        max_heading_error_rad=max_heading_error_rad,
    ):  # fmt: skip
        (line,) = lane_chains(road_map, match, float(t[-1]), 1)
        pos, yaw = follow_line(line, match, t)
        boxes[match.index, :, 0:2] = pos
        boxes[match.index, :, 6] = yaw
        speeds[match.index] = match.speed_mps
    return replace(forecast, boxes=boxes, speed_mps=speeds)


def check_lane_arguments(
    agents: Boxes3D,
    road_map: RoadMap,
    caller: str,
    min_speed_mps: float,
    max_heading_error_rad: float,
) -> None:
    """``TypeError`` naming ``caller`` unless ``road_map`` is a :class:`RoadMap`;
    ``ValueError`` naming it unless the agents are in the map's frame, ``min_speed_mps`` is a
    finite speed >= 0 and ``max_heading_error_rad`` a finite angle in [0, pi]."""
    if not isinstance(road_map, RoadMap):
        raise TypeError(
            f"{caller}: road_map must be a RoadMap, got {type(road_map).__name__} (the lane "
            "models need a map; without one use constant_velocity_forecast)"
        )
    if agents.frame != road_map.frame:
        raise ValueError(
            f"{caller}: the agents are in frame {agents.frame!r}, the map in "
            f"{road_map.frame!r}: transform the agents into the map frame first"
        )
    if not (math.isfinite(min_speed_mps) and min_speed_mps >= 0.0):
        raise ValueError(f"min_speed_mps must be a finite speed >= 0, got {min_speed_mps!r}")
    if not (math.isfinite(max_heading_error_rad) and 0.0 <= max_heading_error_rad <= math.pi):
        raise ValueError(
            f"max_heading_error_rad must be a finite angle in [0, pi], got {max_heading_error_rad!r}"
        )
