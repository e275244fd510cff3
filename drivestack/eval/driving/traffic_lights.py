"""Red-light violations of one run: the ego's front passing a stop line while its light says stop.

Each stop of a map light (:class:`~drivestack.structures.traffic_light.LaneStop`) is a
*stop segment* across its lane: through the lane's centreline point at the stop's station,
at right angles to the lane there, reaching the lane's left and right boundaries (their
distances from that point; half of :data:`FALLBACK_LANE_WIDTH_M` on a side whose boundary
does not give one). A *violation* is the ego's front-bumper centre (the recorded footprint's
centre plus half its length along its yaw) passing that segment between ticks ``k`` and
``k + 1``: at or before the line at ``k`` and past it at ``k + 1`` along the lane's direction,
the crossing point (on the straight move between the two ticks) within the segment, the ego
heading along the lane (within :data:`MAX_HEADING_OFFSET_RAD` of it) at both ticks, while the light shows a
:data:`~drivestack.structures.traffic_light.STOP_STATES` state at ``k`` (as the history
recorded it: ``traffic_light_state``; the state of tick ``k`` is what the light shows, and
what the planner saw, during the move ``k -> k + 1``). So moving across the line sideways, driving it
backwards, or passing the line's extension on a neighbouring lane is not a violation, nor
is passing at green, yellow, ``off`` or ``unknown`` (a light the history did not record is
``unknown``). One passing is one violation, even where two stops of a light touch or where
several lights stop the same line (a junction approach with two signal heads): a move
``k -> k + 1`` counts at most once, for the first of its lights in map order.

A light that governs only some ways out of its stop's lane (a turn arrow:
:attr:`~drivestack.structures.traffic_light.LaneStop.next_lanes`, e.g. a red left arrow
beside a green straight one) is violated only by a passing that goes on into a lane it
governs: after the crossing, the way out is the first tick (from the first one past the
line on) at which the front-bumper centre lies inside one or more of the stop lane's
successor lanes and all of those are governed (a violation) or none is (no violation; a
tick inside both kinds, where the ways have not parted yet, or inside none, decides
nothing). A passing whose way out the history never decides (it ends first, or leaves
every successor at once) counts, as a passing at red of a light that governs some way on.
A plain light (``next_lanes`` None, every map's but CommonRoad turn arrows') is violated by
every passing at red, as before.

The same test runs, for information only (no pass criterion), on each simulated agent's
recorded box (its front-bumper centre and yaw; its speed the norm of its velocity), a move
``k -> k + 1`` counting only while the agent is present (``agent_valid``) at both ticks.
Recorded (replay) agents drive as recorded, not by the map's cycles, and may show runs.

Fields (``metrics.json`` ``red_light``):
  ``violations``   how many (also at the top level, ``red_light_violations``)
  ``lights``       how many traffic lights the map has (0: nothing could be violated)
  ``events``       one per violation: ``tick`` (the first tick past the line), ``time_s``
                   (when the front crossed the line, interpolated between the two ticks),
                   ``light_id``, ``lane_id``, ``speed_mps`` (the ego's speed at the crossing,
                   interpolated likewise)
  ``agent_red_light_runs``  how many red lights the simulated agents ran (information)
  ``agent_events`` one per agent run: ``agent_id`` and the fields of ``events``
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import shapely

from drivestack.eval.driving.history_checks import check_history
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap, interpolate_polyline, project_to_polyline
from drivestack.structures.traffic_light import SIGNAL_STATES, STOP_STATES, LaneStop

#: The lane width whose half stands in for a side whose boundary gives no distance (a
#: degenerate boundary lying on the centreline).
FALLBACK_LANE_WIDTH_M = 3.5

#: How far the ego's heading may be off the lane's for a passing to count: steeper, it is
#: crossing the lane (or reversing), not driving along it.
MAX_HEADING_OFFSET_RAD = math.radians(60.0)

_STOP_CODES = np.array(sorted(SIGNAL_STATES.index(s) for s in STOP_STATES), dtype=np.int8)


@dataclass(frozen=True)
class StopSegment:
    """Where light ``light_id`` (or, for :mod:`~drivestack.eval.driving.stop_signs`, a stop
    sign rule) stops traffic on lane ``lane_id``: the centreline point
    ``center_m (2,)`` at ``station_m``, the lane's heading there, and how far the segment
    reaches to the lane's left and right (both > 0); ``next_lanes`` the ways out of the lane
    the light governs (the stop's :attr:`~drivestack.structures.traffic_light.LaneStop.next_lanes`,
    ``None``: all)."""

    light_id: str
    lane_id: str
    station_m: float
    center_m: np.ndarray
    heading_rad: float
    left_m: float
    right_m: float
    next_lanes: tuple[str, ...] | None = None

    def ends_m(self) -> np.ndarray:
        """``(2, 2)``: the segment's right end, then its left end."""
        normal = np.array([-math.sin(self.heading_rad), math.cos(self.heading_rad)])
        return np.stack(
            [self.center_m - self.right_m * normal, self.center_m + self.left_m * normal]
        )


def stop_segments(road_map: RoadMap) -> list[StopSegment]:
    """The stop segment of every stop of every light of ``road_map`` (module doc), in light
    then stop order."""
    return [
        lane_stop_segment(road_map, light.light_id, stop)
        for light in road_map.traffic_lights
        for stop in light.stops
    ]


def lane_stop_segment(road_map: RoadMap, owner_id: str, stop: LaneStop) -> StopSegment:
    """The stop segment (module doc) of ``stop``, a stop of light (or sign rule) ``owner_id``
    on a lane of ``road_map``."""
    lane = road_map.lane(stop.lane_id)
    xy, yaw = interpolate_polyline(lane.centerline_m, [stop.station_m])
    center = xy[0]
    left = _boundary_distance_m(lane.left_boundary_m, center)
    right = _boundary_distance_m(lane.right_boundary_m, center)
    return StopSegment(
        owner_id,
        stop.lane_id,
        stop.station_m,
        center,
        float(yaw[0]),
        left,
        right,
        stop.next_lanes,
    )


def _boundary_distance_m(boundary_m: np.ndarray, point_m: np.ndarray) -> float:
    """How far ``point_m (2,)`` is from the line of the boundary segment nearest to it (half
    :data:`FALLBACK_LANE_WIDTH_M` when that is not a positive distance)."""
    _, lateral = project_to_polyline(boundary_m, point_m[None])
    distance = abs(float(lateral[0]))
    return distance if distance > 0.0 and math.isfinite(distance) else FALLBACK_LANE_WIDTH_M / 2


@dataclass(frozen=True)
class RedLightViolation:
    """The ego's front passed light ``light_id``'s stop line on lane ``lane_id`` between ticks
    ``tick - 1`` and ``tick`` (at ``time_s``, interpolated between the two) at ``speed_mps``,
    while the light showed a stop state (at ``tick - 1``, for that move)."""

    tick: int
    time_s: float
    light_id: str
    lane_id: str
    speed_mps: float


@dataclass(frozen=True)
class AgentRedLightRun(RedLightViolation):
    """Simulated agent ``agent_id``'s front passed a stop line at red, as
    :class:`RedLightViolation` says of the ego (information only: no pass criterion)."""

    agent_id: str


@dataclass(frozen=True)
class RedLightResult:
    """The red-light violations of a run, how many lights its map has, and the simulated
    agents' red light runs (information only)."""

    violations: tuple[RedLightViolation, ...]
    lights: int
    agent_runs: tuple[AgentRedLightRun, ...] = ()

    @property
    def count(self) -> int:
        return len(self.violations)

    def as_dict(self) -> dict[str, object]:
        return {
            "violations": self.count,
            "lights": self.lights,
            "events": [asdict(v) for v in self.violations],
            "agent_red_light_runs": len(self.agent_runs),
            "agent_events": [asdict(v) for v in self.agent_runs],
        }


def front_bumper_m(ego_boxes: np.ndarray) -> np.ndarray:
    """``(T, 7)`` footprints ``[x, y, z, l, w, h, yaw]`` (geometric centre) -> ``(T, 2)``
    centres of their front edges."""
    boxes = np.asarray(ego_boxes, dtype=np.float64).reshape(-1, 7)
    half = 0.5 * boxes[:, 3]
    return boxes[:, :2] + half[:, None] * np.stack([np.cos(boxes[:, 6]), np.sin(boxes[:, 6])], 1)


def red_light_violations(history: SimHistory, road_map: RoadMap) -> RedLightResult:
    """Every red-light violation (module doc) of ``history`` on ``road_map``, by tick, and
    the simulated agents' red light runs (:class:`AgentRedLightRun`, by agent then tick).
    ``ValueError`` naming the field for a history that cannot be scored
    (:func:`~drivestack.eval.driving.history_checks.check_history`)."""
    check_history(history)
    segments = stop_segments(road_map) if len(history.time_s) >= 2 else []
    column = {light_id: j for j, light_id in enumerate(history.traffic_light_ids)}
    # the state recorded at tick k is the light's during the move k -> k + 1
    stop = np.isin(history.traffic_light_state, _STOP_CODES)
    # segments come in map order of their lights: a move's first violation is its first light's
    # (a light not recorded is unknown, never a violation)
    lit = [(seg, stop[:, column[seg.light_id]]) for seg in segments if seg.light_id in column]
    ego = _red_runs(history.time_s, lit, history.ego_boxes, history.ego_speed_mps, None, road_map)
    agent_boxes = np.asarray(history.agent_boxes, dtype=np.float64)
    velocity = np.asarray(history.agent_velocity_mps, dtype=np.float64)
    valid = np.asarray(history.agent_valid, dtype=bool)
    agents = [
        AgentRedLightRun(**asdict(run), agent_id=agent_id)
        for a, agent_id in enumerate(history.agent_ids)
        for run in _red_runs(
            history.time_s,
            lit,
            agent_boxes[:, a],
            np.hypot(velocity[:, a, 0], velocity[:, a, 1]),
            valid[:, a],
            road_map,
        )
    ]
    return RedLightResult(tuple(ego), len(road_map.traffic_lights), tuple(agents))


def _goes_on_governed(
    road_map: RoadMap, seg: StopSegment, front_m: np.ndarray, after: int, valid: np.ndarray | None
) -> bool:
    """Whether the front-bumper track ``front_m (T, 2)`` goes on from ``seg``'s lane into a
    lane its light governs (module doc), judged from tick ``after`` on (ticks where ``valid
    (T,)`` holds; ``None``: all) against the stop lane's successors' polygons; always for a
    light governing every way out, and where no tick decides."""
    if seg.next_lanes is None:
        return True
    successors = road_map.lane(seg.lane_id).successors
    if not successors:
        return True
    xy = front_m[after:]
    ok = np.ones(len(xy), dtype=bool) if valid is None else np.asarray(valid[after:], bool)
    ok &= np.all(np.isfinite(xy), axis=1)
    inside = np.stack(
        [
            shapely.contains_xy(road_map.lane(s).polygon, xy[:, 0], xy[:, 1]) & ok
            for s in successors
        ],
        1,
    )
    governed = np.array([s in seg.next_lanes for s in successors])
    in_governed = (inside & governed).any(axis=1)
    in_other = (inside & ~governed).any(axis=1)
    decided = np.flatnonzero(in_governed != in_other)
    return True if decided.size == 0 else bool(in_governed[decided[0]])


def _red_runs(
    time_s: np.ndarray,
    lit: list[tuple[StopSegment, np.ndarray]],
    boxes: np.ndarray,
    speed_mps: np.ndarray,
    valid: np.ndarray | None,
    road_map: RoadMap,
) -> list[RedLightViolation]:
    """The red light runs (module doc) of the box track ``boxes (T, 7)`` with speeds
    ``speed_mps (T,)`` at ``time_s (T,)`` over the stop segments ``lit`` (each with its light's
    ``(T,)`` stop states, in map order), a move ``k -> k + 1`` counting only where
    ``valid (T,)`` (``None``: always) holds at both ticks, and a passing of a turn arrow only
    when the track goes on into a lane of ``road_map`` it governs; by tick."""
    front = front_bumper_m(boxes)
    yaw = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)[:, 6]
    speed = np.asarray(speed_mps, dtype=np.float64)
    both = None if valid is None else valid[:-1] & valid[1:]
    found: dict[int, RedLightViolation] = {}  # by the first tick past the line
    for seg, stop in lit:
        for k, u in segment_crossings(seg, front, yaw, both):
            if (
                stop[k]
                and k + 1 not in found
                and _goes_on_governed(road_map, seg, front, k + 1, valid)
            ):
                at_s = float(time_s[k] + u * (time_s[k + 1] - time_s[k]))
                at_mps = float(speed[k] + u * (speed[k + 1] - speed[k]))
                found[k + 1] = RedLightViolation(k + 1, at_s, seg.light_id, seg.lane_id, at_mps)
    return [found[k] for k in sorted(found)]


def segment_crossings(
    seg: StopSegment, front_m: np.ndarray, yaw_rad: np.ndarray, moves_ok: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """``(k, u)`` for each move ``k -> k + 1`` of ``front_m (T, 2)`` that passes ``seg``
    forwards (module doc), ``u`` in ``[0, 1)`` the fraction of the move where it crosses;
    only moves where ``moves_ok (T - 1,)`` holds when given."""
    along = np.array([math.cos(seg.heading_rad), math.sin(seg.heading_rad)])
    normal = np.array([-along[1], along[0]])
    with np.errstate(invalid="ignore"):  # an absent agent's box may be NaN: moves_ok drops it
        rel = front_m - seg.center_m
        d, lateral = rel @ along, rel @ normal
        heading_ok = np.cos(yaw_rad - seg.heading_rad) >= math.cos(MAX_HEADING_OFFSET_RAD)
        passing = (d[:-1] <= 0.0) & (d[1:] > 0.0) & heading_ok[:-1] & heading_ok[1:]
    if moves_ok is not None:
        passing &= moves_ok
    moves = np.flatnonzero(passing)
    out = []
    for k in moves:
        u = float(-d[k] / (d[k + 1] - d[k]))
        at = float(lateral[k] + u * (lateral[k + 1] - lateral[k]))
        if -seg.right_m <= at <= seg.left_m:
            out.append((int(k), u))
    return out
