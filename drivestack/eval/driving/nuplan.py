"""nuPlan closed-loop score on a recorded :class:`~drivestack.sim.runner.SimHistory`.

``score = prod(multipliers) * sum(w_i * s_i) / sum(w_i)`` with the multipliers
no-at-fault-collision, drivable-area compliance (0.3 m), driving-direction compliance and
making-progress, and the weighted metrics progress along the route (5), TTC within bound
(5), speed-limit compliance (4) and comfort (2) — nuPlan's ``closed_loop_reactive_agents``
/ ``non_reactive`` definition. Collision types follow nuPlan: the ego is not at fault when it
is stopped or hit from behind; it is at fault when it hits a stopped agent, hits with its
front, or hits sideways while straddling two lanes or off the drivable area.

Formulas follow nuplan-devkit's master, one release throughout
(``nuplan/planning/metrics/evaluation_metrics/common/*.py``,
``nuplan/planning/metrics/utils/state_extractors.py``): its ``idm/utils.py`` has
``is_agent_ahead`` at 30 deg and ``is_track_stopped`` at 5e-2 m/s (earlier releases: 20 deg
and 5e-3), its TTC's ``stopped_speed_threshold`` is 5e-3. Known differences, by design or
because drivestack's world has no counterpart:

- progress is the ego's station gain along drivestack's reference path, not nuPlan's per-roadblock
  baseline walk; the ratio itself is nuPlan's (:func:`progress_ratio`);
- speed-limit compliance reads the route's limit at the ego's station (nuPlan: the lane or lane
  connector the ego is on, no violation counted off-lane);
- TTC: drivestack projects agents with their velocity vector (nuPlan: speed along the box heading);
  "intersection" has no map layer here, so the lateral-track exception of TTC is the "ego across
  two lanes or off the drivable area" test of the at-fault collision (:func:`_straddles_lanes`);
- driving-direction compliance follows the lanes the ego's centre is in, as nuPlan does
  (:mod:`drivestack.eval.driving.driving_direction`: ``driving_direction_compliance.py``,
  ``route_extractor.py``), with the map differences listed there;
- comfort: see :func:`~drivestack.eval.driving.comfort.nuplan_comfort_at_nuplan_rate`
  (``state_extractors.py``, ``ego_yaw_rate.py``, ``ego_yaw_acceleration.py``,
  ``ego_lat_acceleration.py``);
- collision types (``no_ego_at_fault_collisions.py`` ``_get_collision_type`` and
  ``simulation/observation/idm/utils.py`` ``is_track_stopped``): the ego and the track are
  stopped at a speed magnitude ``<= STOPPED_SPEED_MPS`` (5e-2 m/s), as there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely

from drivestack.eval.driving.comfort import is_comfortable, nuplan_comfort_at_nuplan_rate
from drivestack.eval.driving.driving_direction import driving_direction_compliance
from drivestack.eval.driving.footprint import BEHIND_ANGLE_RAD, bearing_from_ego_rad, may_overlap
from drivestack.eval.driving.history_checks import check_history
from drivestack.kernels import box_corners, boxes_overlap_bev_pairs
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import SimHistory
from drivestack.sim.swept_collision import history_first_contact
from drivestack.structures._checks import check_number
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import RoadMap

# nuPlan _get_collision_type / is_track_stopped(stopped_speed_threshold=5e-02): stopped at
# |speed| <= this
STOPPED_SPEED_MPS = 5e-2
# nuPlan time_to_collision_within_bound.py compute_time_to_collision(stopped_speed_threshold=5e-03):
# no TTC while the ego's speed is <= this
TTC_STOPPED_SPEED_MPS = 5e-3
DRIVABLE_TOLERANCE_M = 0.3
MAKING_PROGRESS_RATIO = 0.2
MIN_EXPERT_PROGRESS_M = 2.0  # nuPlan score_progress_threshold (its yaml value not re-read here)
MAX_OVERSPEED_MPS = 2.23
TTC_BOUND_S = 0.95
TTC_HORIZON_S = 3.0
TTC_STEP_S = 0.1
# nuPlan is_agent_ahead / is_agent_behind (simulation/observation/idm/utils.py): the angle
# between the ego heading and the direction from the ego's rear axle to the agent's centre.
# 30 deg as nuplan-devkit's master (the release whose is_track_stopped default is 5e-2, used
# above); earlier releases had 20 deg with a 5e-3 track threshold. On the regression suite
# (ground truth, PDM) 20 and 30 deg give the same metrics (94.5, 51 of 51).
AHEAD_ANGLE_RAD = np.deg2rad(30.0)
WEIGHTS = {"progress": 5.0, "ttc": 5.0, "speed_limit": 4.0, "comfort": 2.0}
_STATIC = {int(ObjectClass.BARRIER), int(ObjectClass.TRAFFIC_CONE)}


def ttc_note(dash: str, horizon_s: float = TTC_HORIZON_S, step_s: float = TTC_STEP_S) -> str:
    """The note under a results table on what its min TTC column means, ``dash`` being what
    the table shows for "no projected collision" (``-`` in markdown, ``–`` in HTML): the
    projection times :func:`min_time_to_collision_s` tests, ``np.arange(step_s, horizon_s,
    step_s)`` (0.1 to 2.9 s: the horizon itself is not reached).

    >>> ttc_note("-")
    "min TTC: nuPlan's time to collision, projected 0.1 to 2.9 s ahead at constant velocities (its steps below the 3 s horizon); - = no projected collision at any of them (not an error)."
    """
    taus = np.arange(step_s, horizon_s, step_s)
    ahead = f"{taus[0]:.1f} to {taus[-1]:.1f} s" if len(taus) else "0 s"
    return (
        f"min TTC: nuPlan's time to collision, projected {ahead} ahead at constant velocities "
        f"(its steps below the {horizon_s:g} s horizon); {dash} = no projected collision at "
        "any of them (not an error)."
    )


@dataclass(frozen=True)
class CollisionEvent:
    tick: int
    agent_id: str
    kind: str  # stopped_ego | stopped_track | active_rear | active_front | active_lateral
    at_fault: bool
    ego_speed_mps: float
    relative_speed_mps: float


@dataclass(frozen=True)
class RepeatContact:
    """The ego touching an agent again after a gap (``tick``: the first tick of the new
    contact): information only, no collision of the score (nuPlan counts one per agent)."""

    tick: int
    agent_id: str


@dataclass(frozen=True)
class NuPlanMetrics:
    score: float
    no_at_fault_collisions: float
    drivable_area_compliance: float
    driving_direction_compliance: float
    making_progress: float
    progress: float
    ttc_within_bound: float
    speed_limit_compliance: float
    comfort: float
    progress_m: float
    min_ttc_s: float  # inf (null in JSON): no projected hit within ttc_horizon_s
    max_outside_drivable_m: float
    collisions: tuple[CollisionEvent, ...]
    ttc_horizon_s: float = TTC_HORIZON_S  # the projection horizon of min_ttc_s
    repeat_contacts: tuple[RepeatContact, ...] = ()  # information: see repeat_contacts()

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["collisions"] = [asdict(c) for c in self.collisions]
        d["repeat_contacts"] = [asdict(c) for c in self.repeat_contacts]
        d["min_ttc_s"] = None if not np.isfinite(self.min_ttc_s) else self.min_ttc_s
        return d


def _polygons(boxes: np.ndarray) -> np.ndarray:
    corners = box_corners(boxes.reshape(-1, 7))[:, :4, :2]
    return shapely.polygons(corners).reshape(boxes.shape[:-1])


def classify_collisions(history: SimHistory, road_map: RoadMap) -> tuple[CollisionEvent, ...]:
    """One event per agent the ego touches: its first contact only (nuPlan's
    ``_find_new_collisions``: "ego can only collide with an agent once in the scenario", a
    collided track is left out from then on, so touching it again later is no new collision),
    typed at the first-contact instant in ``(t_{k-1}, t_k]``
    (:func:`~drivestack.sim.swept_collision.history_first_contact`): the ego's and the agent's
    poses and speeds interpolated there, so a head-on pass caught between two ticks is the
    ego's active front hit it was, not the rear contact the tick's poses after the pass show.

    ``ValueError`` naming the field for a history that cannot be scored
    (:func:`~drivestack.eval.driving.history_checks.check_history`)."""
    check_history(history)
    return _collision_events(history, road_map)


def _collision_events(history: SimHistory, road_map: RoadMap) -> tuple[CollisionEvent, ...]:
    """:func:`classify_collisions` of a history already checked."""
    events = []
    # each agent's first contact tick (a later contact with it is no new collision)
    start, _ = _contact_starts(history.collisions)
    for tick, j in zip(*np.nonzero(start), strict=True):
        # classified where the footprints first touched (between the ticks for a contact the
        # swept test caught there), not at the tick's own poses, which may be after the pass
        c = first_contact_state(history, int(tick), int(j))
        ego, agent, ego_v, agent_vel = c.ego_box, c.agent_box, c.ego_speed_mps, c.agent_velocity_mps
        heading = np.array([np.cos(ego[6]), np.sin(ego[6])])
        rel = float(np.linalg.norm(ego_v * heading - agent_vel))
        # behind: seen from the ego's rear axle (nuPlan's is_agent_behind(ego.rear_axle, ..)),
        # not from its box centre
        rear_axle = ego.copy()
        rear_axle[:2] = ego[:2] - history.vehicle.center_offset_m * heading
        bearing = bearing_from_ego_rad(rear_axle, agent)
        # stopped = |speed| at or below the threshold (nuPlan's speeds are magnitudes): a
        # reversing ego is moving, not stopped
        if abs(ego_v) <= STOPPED_SPEED_MPS:
            kind, fault = "stopped_ego", False
        elif np.linalg.norm(agent_vel) <= STOPPED_SPEED_MPS:
            kind, fault = "stopped_track", True
        elif bearing > BEHIND_ANGLE_RAD:
            kind, fault = "active_rear", False
        else:
            corners = box_corners(ego[None])[
                0, :4, :2
            ]  # front-left, rear-left, rear-right, front-right
            front = shapely.LineString([corners[0], corners[3]])
            if front.intersects(_polygons(agent[None])[0]):
                kind, fault = "active_front", True
            else:
                kind, fault = "active_lateral", _straddles_lanes(road_map, _polygons(ego[None])[0])
        events.append(
            CollisionEvent(int(tick), history.agent_ids[j], kind, bool(fault), ego_v, rel)
        )
    return tuple(events)


def _contact_starts(collisions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(T, A)`` bool contact per tick and agent -> ``(first, again)``, both ``(T, A)`` bool:
    the tick each agent's first contact starts, and the ticks a later contact with it starts
    (after a tick or more clear of it)."""
    coll = np.asarray(collisions, dtype=bool)
    before = np.vstack([np.zeros((1, coll.shape[1]), dtype=bool), coll[:-1]])
    starts = coll & ~before
    count = np.cumsum(starts, axis=0)
    return starts & (count == 1), starts & (count > 1)


def repeat_contacts(history: SimHistory) -> tuple[RepeatContact, ...]:
    """Each time the ego touches an agent again after being clear of it for a tick or more,
    in tick order: the contacts :func:`classify_collisions` leaves out (one collision per
    agent, as nuPlan), kept so that a report can still show them."""
    _, again = _contact_starts(history.collisions)
    return tuple(
        RepeatContact(int(t), history.agent_ids[j]) for t, j in zip(*np.nonzero(again), strict=True)
    )


@dataclass(frozen=True)
class ContactState:
    """The ego and one agent at their first contact, ``fraction`` of the way from tick
    ``tick - 1`` to ``tick`` (1.0: the tick itself)."""

    fraction: float
    ego_box: np.ndarray  # (7,)
    agent_box: np.ndarray  # (7,)
    ego_speed_mps: float  # signed: < 0 when reversing
    agent_velocity_mps: np.ndarray  # (2,)


def first_contact_state(history: SimHistory, tick: int, agent: int) -> ContactState:
    """The first contact of the ego with agent column ``agent`` that
    ``history.collisions[tick, agent]`` marks
    (:func:`~drivestack.sim.swept_collision.history_first_contact`), with the ego's speed and
    the agent's velocity interpolated to that instant like the poses (nuPlan reads the ego and
    track states of the first sample in collision). For a history already checked."""
    f, ego, other = history_first_contact(history, tick, agent)
    return ContactState(
        f,
        ego,
        other,
        float(_at(history.ego_speed_mps, tick, f)),
        _at(history.agent_velocity_mps[:, agent], tick, f),
    )


def _at(values: np.ndarray, tick: int, fraction: float) -> np.ndarray:
    """``values (T, ...)`` a ``fraction`` of the way from tick ``tick - 1`` to ``tick``
    (linearly); the tick's own values at 1.0 (also at tick 0, or after an invalid tick)."""
    if fraction == 1.0:
        return np.asarray(values[tick])
    return np.asarray((1.0 - fraction) * values[tick - 1] + fraction * values[tick])


def _straddles_lanes(
    road_map: RoadMap, footprint: shapely.Geometry, min_area_m2: float = 0.5
) -> bool:
    """Is the footprint across a lane marking (two neighbour lanes) or off the drivable area?"""
    if (
        float(road_map.distance_outside_drivable_m(np.asarray(footprint.exterior.coords)[:4]).max())
        > DRIVABLE_TOLERANCE_M
    ):
        return True
    covered = {
        lane.lane_id
        for lane in road_map.lanes
        if lane.polygon.intersection(footprint).area > min_area_m2
    }
    return any(
        road_map.lane(i).left_neighbor in covered or road_map.lane(i).right_neighbor in covered
        for i in covered
    )


def min_time_to_collision_s(
    history: SimHistory,
    horizon_s: float = TTC_HORIZON_S,
    step_s: float = TTC_STEP_S,
    road_map: RoadMap | None = None,
    events: tuple[CollisionEvent, ...] | None = None,
) -> np.ndarray:
    """``(T,)`` nuPlan's TTC per tick: ego and agents projected at constant velocity.

    As nuPlan's ``time_to_collision_within_bound.py`` (``compute_time_to_collision`` and
    ``extract_tracks_info_excluding_collided_tracks``):

    - projection times ``np.arange(step_s, horizon_s, step_s)``: 0.1 ... 2.9 s (the horizon
      itself is not reached);
    - no TTC (``inf``) at ticks where the ego's |speed| is <= ``TTC_STOPPED_SPEED_MPS`` (5e-3);
    - an agent counts from the ego's rear axle when it is ahead (within 30 deg of the heading),
      or, when the ego straddles two lanes or is off the drivable area, when it is not behind
      (within 150 deg); the straddle test needs ``road_map`` (without it only agents ahead count);
    - an agent that has touched the ego is ignored from its first contact on;
    - TTC is 0 at the tick of each at-fault collision (``events``, else classified on
      ``road_map``; without either, no tick is set to 0).

    ``inf`` when nothing is hit within the horizon (and ``(0,)`` for a history of no tick).
    All ticks at once: the (tick, agent) pairs that pass the cheap filters are projected over
    every step and tested in one batch. ``ValueError`` naming the argument for a history that
    cannot be scored (:func:`~drivestack.eval.driving.history_checks.check_history`) or a
    horizon or step that is not a finite number > 0.
    """
    check_history(history)
    check_number("horizon_s", horizon_s, above=0.0)
    check_number("step_s", step_s, above=0.0)
    return _min_ttc_s(history, horizon_s, step_s, road_map, events)


def _min_ttc_s(
    history: SimHistory,
    horizon_s: float,
    step_s: float,
    road_map: RoadMap | None,
    events: tuple[CollisionEvent, ...] | None,
) -> np.ndarray:
    """:func:`min_time_to_collision_s` of a history (and horizon, step) already checked."""
    n_t = len(history)
    # nuPlan: for time_to_collision in np.arange(time_step_size, time_horizon, time_step_size)
    taus = np.arange(step_s, horizon_s, step_s)
    ttc = np.full(n_t, np.inf)
    if n_t == 0:
        return ttc
    if events is None and road_map is not None:
        events = _collision_events(history, road_map)
    at_fault_ticks = np.array([e.tick for e in events or () if e.at_fault], dtype=np.int64)
    if history.agent_boxes.shape[1] == 0 or len(taus) == 0:
        ttc[at_fault_ticks] = 0.0
        return ttc
    ego = history.ego_boxes  # (T, 7)
    agents = history.agent_boxes  # (T, A, 7)
    vel = history.agent_velocity_mps  # (T, A, 2)
    speed = history.ego_speed_mps  # signed; the projection follows the sign
    dx, dy = agents[..., 0] - ego[:, 0:1], agents[..., 1] - ego[:, 1:2]
    rear_axle = np.zeros_like(ego)
    rear_axle[:, 0], rear_axle[:, 1], rear_axle[:, 6] = (
        history.ego_x_m,
        history.ego_y_m,
        history.ego_yaw_rad,
    )
    angle = bearing_from_ego_rad(rear_axle[:, None, :], agents)  # (T, A)
    collided = np.logical_or.accumulate(history.collisions, axis=0)  # from the first contact on
    ego_vel = speed[:, None] * np.stack([np.cos(ego[:, 6]), np.sin(ego[:, 6])], axis=1)  # (T, 2)
    rel_speed = np.linalg.norm(vel - ego_vel[:, None, :], axis=2)
    reach = (
        0.5 * (np.hypot(ego[:, 3:4], ego[:, 4:5]) + np.hypot(agents[..., 3], agents[..., 4]))
        + rel_speed * horizon_s
    )
    near = (
        (np.abs(speed) > TTC_STOPPED_SPEED_MPS)[:, None]
        & history.agent_valid
        & ~collided
        & (np.hypot(dx, dy) <= reach)
    )
    ahead = angle < AHEAD_ANGLE_RAD
    keep = near & ahead
    if road_map is not None:
        # agents beside the ego count where it straddles lanes: the (shapely) straddle test
        # runs only at ticks that have such an agent
        beside = near & ~ahead & ~(angle > BEHIND_ANGLE_RAD)
        ticks = np.flatnonzero(np.any(beside, axis=1))
        if len(ticks):
            lateral = np.zeros(n_t, dtype=bool)
            lateral[ticks] = [_straddles_lanes(road_map, p) for p in _polygons(ego[ticks])]
            keep |= beside & lateral[:, None]
    tick, agent = np.nonzero(keep)  # (P,) candidate pairs
    if len(tick):
        n_tau = len(taus)
        ego_f = np.repeat(ego[tick][:, None, :], n_tau, axis=1)  # (P, tau, 7)
        ego_f[:, :, 0] += ego_vel[tick, 0][:, None] * taus[None, :]
        ego_f[:, :, 1] += ego_vel[tick, 1][:, None] * taus[None, :]
        ag_f = np.repeat(agents[tick, agent][:, None, :], n_tau, axis=1)  # (P, tau, 7)
        ag_f[:, :, 0] += vel[tick, agent, 0][:, None] * taus[None, :]
        ag_f[:, :, 1] += vel[tick, agent, 1][:, None] * taus[None, :]
        maybe = may_overlap(ego_f, ag_f)  # (P, tau)
        hit = np.zeros_like(maybe)
        if np.any(maybe):
            hit[maybe] = boxes_overlap_bev_pairs(ego_f[maybe], ag_f[maybe])
        # first step of the horizon with a hit, per pair, then the earliest over a tick's agents
        first = np.where(np.any(hit, axis=1), np.argmax(hit, axis=1), n_tau)
        earliest = np.full(n_t, n_tau)
        np.minimum.at(earliest, tick, first)
        found = earliest < n_tau
        ttc[found] = taus[earliest[found]]
    ttc[at_fault_ticks] = 0.0  # nuPlan: "Set TTC to 0 if ego is in an at-fault collision"
    return ttc


def progress_ratio(progress_m: float, expert_progress_m: float) -> float:
    """nuPlan's ego-to-expert progress ratio (``ego_progress_along_expert_route.py``,
    ``EgoProgressAlongExpertRouteStatistics.compute``), threshold ``MIN_EXPERT_PROGRESS_M``:
    0 when the ego went back more than the threshold, else
    ``min(1, max(ego, thr) / max(expert, thr))`` — a stationary ego against an 8 m expert scores
    0.25, and any ego scores 1 when the expert moved no more than the threshold.
    ``ValueError`` naming the argument for a NaN or infinite progress.
    """
    check_number("progress_m", progress_m)
    check_number("expert_progress_m", expert_progress_m)
    thr = MIN_EXPERT_PROGRESS_M
    if progress_m < -thr:
        return 0.0
    return float(min(1.0, max(progress_m, thr) / max(expert_progress_m, thr)))


def speed_limit_score(over_mps: np.ndarray, dt_s: float) -> float:
    """nuPlan's speed-limit compliance (``speed_limit_compliance.py``,
    ``_compute_violation_metric_score``) of the per-tick over-speed ``(T,)`` (0 where within the
    limit): ``max(0, 1 - sum(over) * dt / (MAX_OVERSPEED_MPS * duration))``, a plain sum (not
    the trapezoid rule) over ``duration = (T - 1) * dt``; 1 for a run of one tick."""
    duration = dt_s * (len(over_mps) - 1)
    if duration <= 0:
        return 1.0
    loss = float(np.sum(over_mps)) * dt_s / (MAX_OVERSPEED_MPS * duration)
    return max(0.0, 1.0 - loss)


def nuplan_score(
    history: SimHistory, road_map: RoadMap, route: ReferencePath, expert_progress_m: float
) -> NuPlanMetrics:
    """All nuPlan closed-loop metrics and the scenario score (0..1).

    Raises:
        ValueError: naming the argument (and field, tick): a history that cannot be scored
            (:func:`~drivestack.eval.driving.history_checks.check_history`; at least one tick),
            a map without a drivable area, a route without length, a NaN or infinite
            ``expert_progress_m``.
    """
    check_history(history, min_ticks=1)
    check_number("expert_progress_m", expert_progress_m)
    if road_map.drivable_area.is_empty:
        raise ValueError("road_map has no drivable area (no drivable lane): nothing to score on")
    length_m = float(route.station_m[-1]) if len(route.station_m) else 0.0
    if not (length_m > 0 and np.isfinite(length_m)):
        raise ValueError(
            f"route has no length (its last station: {length_m:g} m): progress cannot be measured"
        )
    dt = history.dt_s
    # multipliers ------------------------------------------------------------------------------
    events = _collision_events(history, road_map)  # the history checked above
    fault = [e for e in events if e.at_fault]
    labels = {
        aid: int(lab) for aid, lab in zip(history.agent_ids, history.agent_labels, strict=True)
    }
    n_static = sum(labels[e.agent_id] in _STATIC for e in fault)
    n_moving = len(fault) - n_static
    no_collision = 0.0 if n_moving > 0 or n_static > 1 else (0.5 if n_static == 1 else 1.0)
    corners = box_corners(history.ego_boxes)[:, :4, :2].reshape(-1, 2)
    outside = float(np.max(road_map.distance_outside_drivable_m(corners))) if len(corners) else 0.0
    drivable = 1.0 if outside <= DRIVABLE_TOLERANCE_M else 0.0
    station, _ = route.project(np.stack([history.ego_x_m, history.ego_y_m], axis=1))
    # nuPlan: backwards along the baseline of the lane the ego's centre is in
    direction, _ = driving_direction_compliance(
        road_map, history.ego_boxes[:, :2], history.ego_yaw_rad, history.timestamp_ns
    )
    progress_m = float(station[-1] - station[0])
    ratio = progress_ratio(progress_m, expert_progress_m)
    # nuPlan ego_is_making_progress.py: ratio >= min_progress_threshold (0.2)
    making_progress = 1.0 if ratio >= MAKING_PROGRESS_RATIO else 0.0
    # weighted ---------------------------------------------------------------------------------
    ttc = _min_ttc_s(history, TTC_HORIZON_S, TTC_STEP_S, road_map, events)
    ttc_ok = 1.0 if np.min(ttc, initial=np.inf) >= TTC_BOUND_S else 0.0
    limit = route.speed_limit_at(station)
    speed_score = speed_limit_score(np.maximum(np.abs(history.ego_speed_mps) - limit, 0.0), dt)
    comfort = float(
        is_comfortable(
            nuplan_comfort_at_nuplan_rate(
                history.ego_speed_mps,
                history.ego_yaw_rad,
                history.ego_accel_mps2,
                dt,
                center_offset_m=history.vehicle.center_offset_m,
            )[0]
        )
    )
    weighted = (
        WEIGHTS["progress"] * ratio
        + WEIGHTS["ttc"] * ttc_ok
        + WEIGHTS["speed_limit"] * speed_score
        + WEIGHTS["comfort"] * comfort
    ) / sum(WEIGHTS.values())
    score = no_collision * drivable * direction * making_progress * weighted
    return NuPlanMetrics(
        score=float(score),
        no_at_fault_collisions=no_collision,
        drivable_area_compliance=drivable,
        driving_direction_compliance=direction,
        making_progress=making_progress,
        progress=ratio,
        ttc_within_bound=ttc_ok,
        speed_limit_compliance=speed_score,
        comfort=comfort,
        progress_m=progress_m,
        min_ttc_s=float(np.min(ttc, initial=np.inf)),
        max_outside_drivable_m=outside,
        collisions=events,
        repeat_contacts=repeat_contacts(history),
    )
