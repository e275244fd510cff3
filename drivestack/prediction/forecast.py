"""Agent forecasts: future boxes over a fixed horizon.

A forecast holds ``boxes (A, T+1, 7)`` and ``speed_mps (A, T+1)`` at times ``k * dt_s`` for
``k = 0..T`` (index 0 is the observed state). ``T = horizon_s / dt_s`` when the horizon is a
whole number of steps (to 1e-9 relative), otherwise ``ceil(horizon_s / dt_s)``: the forecast
always covers the horizon, its last step reaching less than one ``dt_s`` past it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivestack.core.transforms import wrap_angle
from drivestack.structures.boxes import Boxes3D, require_boxes3d
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap, interpolate_polyline, polyline_stations

_LANE_FOLLOWERS = {
    int(c)
    for c in (
        ObjectClass.CAR,
        ObjectClass.TRUCK,
        ObjectClass.BUS,
        ObjectClass.VAN,
        ObjectClass.MOTORCYCLE,
        ObjectClass.OTHER_VEHICLE,
    )
}

#: The classes that follow lanes (vehicles), as ``int`` labels: the map-based forecasts move
#: only these along lanes.
LANE_FOLLOWERS: frozenset[int] = frozenset(_LANE_FOLLOWERS)


@dataclass(frozen=True)
class Forecast:
    """Future boxes of ``A`` agents at times ``k * dt_s``, ``k = 0..T`` (0: the observed state).

    Attributes:
        dt_s: the time step, seconds; finite and > 0.
        boxes: ``(A, T+1, 7)`` float ``[x, y, z, length, width, height, yaw]`` per agent and
            step, in the agents' frame; finite, sizes >= 0.
        speed_mps: ``(A, T+1)`` float speeds, finite. Its sign depends on the producer:
            :func:`constant_velocity_forecast` gives the velocity's magnitude (>= 0);
            :func:`lane_following_forecast` the speed signed along the box heading for lane
            followers (negative when reversing).

    Raises:
        ValueError: a field has another shape, ``boxes`` and ``speed_mps`` disagree on ``A``
            or ``T+1``, a value is not finite, a size is negative, or ``dt_s`` is not a
            finite number > 0.
    """

    dt_s: float
    boxes: np.ndarray  # (A, T+1, 7)
    speed_mps: np.ndarray  # (A, T+1), see the class docstring for its sign

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
            if arr.dtype.kind != "f":
                raise ValueError(f"Forecast.{name} must have a float dtype, got {arr.dtype}")
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

    @property
    def n_steps(self) -> int:
        return int(self.boxes.shape[1]) - 1


def forecast_steps(horizon_s: float, dt_s: float) -> int:
    """``T``, the number of steps that covers ``horizon_s`` (see the module doc); ``ValueError``
    naming the parameter unless ``dt_s > 0`` and ``horizon_s >= 0`` are finite."""
    if not (math.isfinite(dt_s) and dt_s > 0.0):
        raise ValueError(f"dt_s must be a finite time step > 0 s, got {dt_s!r}")
    if not (math.isfinite(horizon_s) and horizon_s >= 0.0):
        raise ValueError(f"horizon_s must be a finite duration >= 0 s, got {horizon_s!r}")
    ratio = horizon_s / dt_s
    whole = round(ratio)
    if abs(ratio - whole) <= 1e-9 * max(1.0, ratio):
        return int(whole)
    return math.ceil(ratio)


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
    return Forecast(dt_s, boxes, speed)


def lane_following_forecast(
    agents: Boxes3D, road_map: RoadMap, horizon_s: float, dt_s: float, min_speed_mps: float = 1.0
) -> Forecast:
    """Vehicles moving faster than ``min_speed_mps`` follow their lane's centreline (first
    successor at each lane end) at constant speed; everyone else moves at constant velocity.

    ``agents`` must be in the map's frame (``agents.frame == road_map.frame``). A lane
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
        TypeError: ``agents`` is not a ``Boxes3D``.
        ValueError: the agents' frame is not the map's; the horizon and step as
            :func:`forecast_steps`; ``min_speed_mps`` is not a finite speed >= 0.
    """
    check_agents(agents, "lane_following_forecast")
    if agents.frame != road_map.frame:
        raise ValueError(
            f"lane_following_forecast: the agents are in frame {agents.frame!r}, the map in "
            f"{road_map.frame!r}: transform the agents into the map frame first"
        )
    if not (math.isfinite(min_speed_mps) and min_speed_mps >= 0.0):
        raise ValueError(f"min_speed_mps must be a finite speed >= 0, got {min_speed_mps!r}")
    forecast = constant_velocity_forecast(agents, horizon_s, dt_s)
    boxes = forecast.boxes.copy()
    speeds = forecast.speed_mps.copy()
    t = np.arange(forecast.n_steps + 1) * dt_s
    yaw0 = agents.yaw_rad
    along = agents.velocity_mps[:, 0] * np.cos(yaw0) + agents.velocity_mps[:, 1] * np.sin(yaw0)
    for i in range(len(agents)):
        speed = float(along[i])
        if int(agents.label[i]) not in _LANE_FOLLOWERS or abs(speed) < min_speed_mps:
            continue
        xy = agents.center_m[i, :2]
        try:
            lane_id = road_map.nearest_lane(
                xy, yaw_rad=float(agents.yaw_rad[i]), max_distance_m=3.0
            )
        except LookupError:
            continue
        lane = road_map.lane(lane_id)
        line = lane.centerline_m
        station0, lateral0 = lane.project(xy[None])
        need = speed * float(t[-1])
        while polyline_stations(line)[-1] < station0[0] + need and lane.successors:
            lane = road_map.lane(lane.successors[0])
            line = np.concatenate([line, lane.centerline_m[1:]])
        pos, yaw = interpolate_polyline(line, station0[0] + speed * t)
        pos = pos + lateral0[0] * np.stack([-np.sin(yaw), np.cos(yaw)], axis=1)
        boxes[i, :, 0:2] = pos
        boxes[i, :, 6] = wrap_angle(yaw)
        speeds[i] = speed
    return Forecast(dt_s, boxes, speeds)
