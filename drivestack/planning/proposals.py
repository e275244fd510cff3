"""Proposal rollouts: IDM speed control x curvature feed-forward steering with pure-pursuit
correction x the bicycle model, vectorised.

One rollout simulates P proposals at once for T steps. Proposal p follows the reference path
shifted ``offsets_m[p]`` to the left with IDM towards ``target_speed_mps[p]``; the IDM leader
is the closest forecast agent ahead in the proposal's corridor (or about to enter it within
``entry_lookahead_steps``), and the end of the path is a stationary leader (stop there). An
agent the proposal has run into (inside the corridor with overlapping stations) stays a
leader at gap 0 while it is in the corridor, also once the ego is past it: a rollout that
drives into an obstacle stops there instead of driving on through it. A lower speed limit
ahead (:class:`SpeedDrops`) is reached at its limit; a proposal standing behind a standing
leader stays standing within :data:`MOVE_OFF_ROOM_M` of its standstill gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from drivestack.planning.control.tracker import feed_forward_steering_scalar
from drivestack.planning.idm import IDMParams, idm_scalar
from drivestack.planning.reference_path import ReferencePath
from drivestack.prediction.forecast import Forecast
from drivestack.sim.vehicle import BicycleState, VehicleParams, bicycle_update

#: How fast (1/s) a light stop's speed converges onto its constant-deceleration curve (see
#: :func:`rollout`'s ``light_stop_station_m``)
LIGHT_STOP_GAIN_PER_S = 1.0

#: A proposal standing still (speed 0) behind a standing leader (an agent whose along speed is
#: at most :data:`STANDING_LEADER_SPEED_MPS`, the route's end, a light's stop point) moves off
#: only when the room beyond IDM's standstill gap (``idm.min_gap_m``, the light stop's gap) is
#: at least this (m). IDM accelerates from rest whenever the gap exceeds ``min_gap_m``: a car
#: stopped 0.1 m beyond it planned a creep that the tracker braked to rest, over and over
#: (the ego crept at up to 0.06 m/s behind a stopped car).
MOVE_OFF_ROOM_M = 1.0

#: A leader this slow (m/s, along the path) counts as standing for :data:`MOVE_OFF_ROOM_M`
#: (nuPlan's stopped speed, as :data:`~drivestack.planning.scoring.STOPPED_SPEED_MPS`).
STANDING_LEADER_SPEED_MPS = 0.05

_FIELDS = ("x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2", "steering_rad")


@dataclass(frozen=True)
class PathAgents:
    """Forecast agents in Frenet coordinates of a path: ``(A, T+1)`` arrays and ``(A,)`` half sizes."""

    station_m: np.ndarray
    lateral_m: np.ndarray
    along_speed_mps: np.ndarray
    half_length_m: np.ndarray
    half_width_m: np.ndarray


@dataclass(frozen=True)
class SpeedDrops:
    """Where the speed limit along a path drops, for :func:`rollout` to brake for ahead: a
    slower lane, or a bend's lateral-acceleration limit
    (:meth:`~drivestack.planning.reference_path.ReferencePath.speed_limits`).

    ``station_m (K,)`` increasing: the path stations (of the rollout's reference point, the
    rear axle) from which a lower limit ``speed_mps (K,)`` holds; ``decel_mps2``: the
    deceleration to arrive at each at (the speed profile's, ``v^2 <= w^2 + 2 b d``);
    ``max_decel_mps2``: the hardest braking for one (when a drop is too near to reach at
    ``decel_mps2``). See :func:`speed_drop_accel`.
    """

    station_m: np.ndarray
    speed_mps: np.ndarray
    decel_mps2: float
    max_decel_mps2: float

    @classmethod
    def along(
        cls,
        station_m: np.ndarray,
        limit_mps: np.ndarray,
        decel_mps2: float,
        max_decel_mps2: float,
    ) -> SpeedDrops:
        """The drops of the per-point limits ``limit_mps (N,)`` at ``station_m (N,)`` (e.g.
        :meth:`~drivestack.planning.reference_path.ReferencePath.speed_limits`): every
        point whose limit is below the point's before it (a point whose limit is not lower
        than its predecessor's asks for no harder braking than that one while both are
        ahead)."""
        station = np.asarray(station_m, dtype=np.float64)
        limit = np.asarray(limit_mps, dtype=np.float64)
        drop = np.flatnonzero(limit[1:] < limit[:-1]) + 1
        return cls(
            np.ascontiguousarray(station[drop]),
            np.ascontiguousarray(limit[drop]),
            float(decel_mps2),
            float(max_decel_mps2),
        )


_NO_DROPS = SpeedDrops(np.zeros(0), np.zeros(0), 1.0, 1.0)


@dataclass(frozen=True)
class Rollout:
    """States of P proposals at k = 0..T; ``station_m``, ``gap_m`` and
    ``closing_speed_mps`` are ``(P, T+1)`` (gap to the IDM leader, inf when none)."""

    states: np.ndarray  # (P, T+1, 6): x, y, yaw, speed, acceleration, steering
    station_m: np.ndarray
    gap_m: np.ndarray
    closing_speed_mps: np.ndarray

    def field(self, name: str) -> np.ndarray:
        """``(P, T+1)`` array of one state field."""
        return self.states[:, :, _FIELDS.index(name)]

    def boxes(self, vehicle: VehicleParams, n_steps: int | None = None) -> np.ndarray:
        """``(P, K, 7)`` footprints of the first ``n_steps + 1`` states (all by default)."""
        st = self.states if n_steps is None else self.states[:, : n_steps + 1]
        flat = st.reshape(-1, 6)
        b = BicycleState(
            flat[:, 0], flat[:, 1], flat[:, 2], flat[:, 3], flat[:, 4], flat[:, 5]
        ).boxes(vehicle)
        return b.reshape(st.shape[0], st.shape[1], 7)

    def joined(self, other: Rollout) -> Rollout:
        """This rollout's P proposals followed by ``other``'s Q (same T): ``(P + Q, ...)``."""
        return Rollout(
            np.concatenate((self.states, other.states)),
            np.concatenate((self.station_m, other.station_m)),
            np.concatenate((self.gap_m, other.gap_m)),
            np.concatenate((self.closing_speed_mps, other.closing_speed_mps)),
        )


@njit(cache=True)
def _project_kernel(xy_m, station_m, pts, nearest):
    """Per point: station and lateral on the better of the two segments at its nearest vertex."""
    n = xy_m.shape[0]
    m = pts.shape[0]
    best_s = np.zeros(m)
    best_d = np.zeros(m)
    for q in range(m):
        best_dist = np.inf
        for which in range(2):
            seg = min(max(nearest[q] - 1 + which, 0), n - 2)
            ax, ay = xy_m[seg, 0], xy_m[seg, 1]
            dx, dy = xy_m[seg + 1, 0] - ax, xy_m[seg + 1, 1] - ay
            length = np.sqrt(dx * dx + dy * dy)
            rx, ry = pts[q, 0] - ax, pts[q, 1] - ay
            t = (rx * dx + ry * dy) / (length * length)
            t = min(t, 1.0) if seg == 0 else min(max(t, 0.0), 1.0)
            if seg == n - 2:
                t = max(t, 0.0)
            ex, ey = rx - t * dx, ry - t * dy
            dist = np.sqrt(ex * ex + ey * ey)
            if dist < best_dist:
                best_dist = dist
                best_s[q] = station_m[seg] + t * length
                best_d[q] = (dx * ry - dy * rx) / length
    return best_s, best_d


def fast_project(
    path: ReferencePath, tree: cKDTree, points_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Frenet station/lateral ``(M,)`` of ``(M, 2)`` points via the nearest path vertex and its
    two segments (the closer of the two; stations before the start extrapolate along the first)."""
    pts = np.ascontiguousarray(points_m, dtype=np.float64).reshape(-1, 2)
    _, idx = tree.query(pts)
    return _project_kernel(path.xy_m, path.station_m, pts, np.asarray(idx, dtype=np.int64))


def agents_on_path(path: ReferencePath, tree: cKDTree, forecast: Forecast) -> PathAgents:
    """The forecast agents ``(A, T+1)`` in Frenet coordinates of ``path``.

    The speed along the path is the forecast's own motion (its centres' displacement from
    one step to the next, projected on the path's heading; the last step repeats the one
    before), not the speed along the box's yaw: a LiDAR box's yaw is an axis (a car driving
    ahead may carry a yaw turned by 180 or 90 degrees), and then the speed along it reads an
    oncoming or a standing car. The half sizes are the box's half length and half width with
    the longer of its two sides as its length, used as if the box lay along the path: a box
    whose length and width are given the other way round (a yaw turned by 90 degrees, the same
    footprint) counts as the same box written the usual way. A box turned across the path (a
    crossing car) still counts with its half width across the path, not the half length it
    spans there (measured: projecting each footprint on the path instead cost four
    ground-truth regression runs 12.5-16.9 points, all on comfort, though it turned the IDM
    baseline's known failure into a pass; not done). A
    forecast of one instant (``T = 0``) takes the speed along the box's yaw."""
    boxes = forecast.boxes
    n_agents, n_t = boxes.shape[0], boxes.shape[1]
    if n_agents == 0:
        z = np.zeros((0, n_t))
        return PathAgents(z, z, z, np.zeros(0), np.zeros(0))
    s, d = fast_project(path, tree, boxes[:, :, :2].reshape(-1, 2))
    s = s.reshape(n_agents, n_t)
    d = d.reshape(n_agents, n_t)
    _, heading = path.pose_at(np.clip(s, 0.0, path.length_m))
    if n_t > 1:
        step_mps = np.diff(boxes[:, :, :2], axis=1) / forecast.dt_s  # (A, T, 2)
        velocity_mps = np.concatenate([step_mps, step_mps[:, -1:]], axis=1)
        along = velocity_mps[..., 0] * np.cos(heading) + velocity_mps[..., 1] * np.sin(heading)
    else:
        along = forecast.speed_mps * np.cos(boxes[:, :, 6] - heading)
    length, width = boxes[:, 0, 3], boxes[:, 0, 4]
    return PathAgents(s, d, along, np.maximum(length, width) / 2, np.minimum(length, width) / 2)


@njit(cache=True)
def _interp(x, xp, fp):  # pragma: no cover - compiled
    """``np.interp`` of one value (NumPy's and numba's rule and arithmetic, without their
    array set-up); ``xp`` increasing, at least two points."""
    n = xp.shape[0]
    if np.isnan(x):
        return x
    if x > xp[n - 1]:
        return fp[n - 1]
    if x < xp[0]:
        return fp[0]
    j = np.searchsorted(xp, x, side="right") - 1
    if j == n - 1 or xp[j] == x:
        return fp[j]
    slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
    out = slope * (x - xp[j]) + fp[j]
    if np.isnan(out):  # as NumPy: try from the other end, then a flat segment
        out = slope * (x - xp[j + 1]) + fp[j + 1]
        if np.isnan(out) and fp[j] == fp[j + 1]:
            out = fp[j]
    return out


@njit(cache=True)
def _path_pose(station_m, xy_m, seg_cos, seg_sin, s, offset):
    """Point and heading at station ``s`` shifted ``offset`` left (extrapolated past the ends)."""
    i = np.searchsorted(station_m, s, side="right") - 1
    i = min(max(i, 0), station_m.shape[0] - 2)
    t = s - station_m[i]
    c, sn = seg_cos[i], seg_sin[i]
    return xy_m[i, 0] + t * c - offset * sn, xy_m[i, 1] + t * sn + offset * c, c, sn


@njit(cache=True)
def light_stop_accel(v, room, gap, decel, gain, max_decel):  # pragma: no cover - compiled
    """The acceleration that brings speed ``v`` onto the constant-deceleration stop at the
    stop point ``d = room - gap`` ahead (``room``: front bumper to the line), ``v_cap =
    sqrt(2 decel d)``, and along it: ``-v^2 / (2 D) + gain (v_cap - v)``, with ``D = max(d,
    room / 2)`` (the rule's :func:`~drivestack.planning.traffic_lights.stop_distance_m`) and
    ``v_cap = 0`` for ``d <= 0``. On the curve it is ``-decel``; below it, braking gentler
    than ``decel`` (none until the curve is near), above it harder, both converging onto it;
    standing, it creeps up to the stop point only. Past the line: ``-max_decel`` while
    moving, 0 standing. The simulator's ``idm`` agents stop for lights with it too
    (:mod:`drivestack.sim.agents`)."""
    if room <= 0.0:
        return -max_decel if v > 0.0 else 0.0
    d = room - gap
    cap = math.sqrt(2.0 * decel * d) if d > 0.0 else 0.0
    return -v * v / (2.0 * max(d, 0.5 * room)) + gain * (cap - v)


@njit(cache=True)
def speed_drop_accel(
    v, s, drop_station, drop_speed, decel, max_decel, gain
):  # pragma: no cover - compiled
    """The acceleration that brings speed ``v`` at station ``s`` onto the constant-
    deceleration approach of every lower limit ahead (:class:`SpeedDrops`), and along it: for
    a drop to ``w < v`` at ``d = station - s > 0`` ahead, ``-(v^2 - w^2) / (2 d) + gain
    (v_cap - v)`` with ``v_cap = sqrt(w^2 + 2 decel d)`` (:func:`light_stop_accel`'s law with
    an end speed: on the curve ``-decel``, below it gentler (none until the curve is near),
    above it harder, converging onto it, so the speed is ``w`` when the station is reached),
    the lowest over the drops, at least ``-max_decel``; ``inf`` when no drop ahead is slower
    than ``v``. Only drops within ``(v + sqrt(decel v / (2 gain)))^2 / (2 decel)`` can give a
    braking value (beyond, ``v_cap - v`` outweighs the first term), so only those are read."""
    reach = v + math.sqrt(decel * v / (2.0 * gain))
    reach = reach * reach / (2.0 * decel)
    best = np.inf
    i = np.searchsorted(drop_station, s, side="right")
    while i < drop_station.shape[0] and drop_station[i] - s <= reach:
        w = drop_speed[i]
        if w < v:
            d = drop_station[i] - s
            cap = math.sqrt(w * w + 2.0 * decel * d)
            best = min(best, -(v * v - w * w) / (2.0 * d) + gain * (cap - v))
        i += 1
    return max(best, -max_decel)


@njit(cache=True)
def _rollout_kernel(
    start,
    station0,
    station_m,
    xy_m,
    seg_cos,
    seg_sin,
    profile,
    offsets,
    fractions,
    ag_station,
    ag_half_length,
    ag_along,
    soon,
    inside,
    followed,
    stop_station,
    n_steps,
    dt,
    limits,
    idm_values,
    front,
    rear,
    look_time,
    look_min,
    hold_run_into,
    light_station,
    light_decel,
    light_gain,
    light_gap,
    drop_station,
    drop_speed,
    drop_decel,
    drop_max_decel,
    tangent_yaw,
    curvature,
    move_off_room,
):
    n_prop = offsets.shape[0]
    n_agents = ag_station.shape[0]
    states = np.empty((n_prop, n_steps + 1, 6))
    stations = np.empty((n_prop, n_steps + 1))
    gaps = np.empty((n_prop, n_steps + 1))
    closing = np.empty((n_prop, n_steps + 1))
    wheelbase, max_steer = limits[0], limits[4]
    hit = np.zeros(n_agents, dtype=np.bool_)
    for p in range(n_prop):
        x, y, yaw, v, a, d = start[0], start[1], start[2], start[3], start[4], start[5]
        s = station0
        hit[:] = False
        for k in range(n_steps + 1):
            states[p, k, 0], states[p, k, 1], states[p, k, 2] = x, y, yaw
            states[p, k, 3], states[p, k, 4], states[p, k, 5] = v, a, d
            stations[p, k] = s
            # leader: nearest agent ahead in (or about to enter) the corridor, or the stop
            gap = np.inf
            lead_v = 0.0
            lead_followed = False
            for j in range(n_agents):
                if not soon[p, j, k]:
                    continue
                if ag_station[j, k] + ag_half_length[j] <= s - rear:  # behind the ego
                    if not hit[j]:
                        continue
                    g = 0.0  # run into earlier and driven through: still in the way
                else:
                    g = max(ag_station[j, k] - ag_half_length[j] - (s + front), 0.0)
                    if hold_run_into and g == 0.0 and inside[p, j, k] and ag_station[j, k] >= s:
                        # run into from behind it (its centre ahead of the ego's): it stays
                        # in the way; a car closing in from behind never becomes a leader
                        hit[j] = True
                if g < gap:
                    gap = g
                    lead_v = ag_along[j, k]
                    lead_followed = followed[p, j]
            if stop_station == stop_station:  # not NaN: a stop is set
                g = stop_station - (s + front)
                if g < gap:
                    gap = max(g, 0.0)
                    lead_v = 0.0
                    lead_followed = False
            gaps[p, k] = gap
            closing[p, k] = v - lead_v
            if k == n_steps:
                break
            # standing behind a standing leader (or stop) within the move-off room: stay
            hold = v <= 0.0 and lead_v <= STANDING_LEADER_SPEED_MPS
            hold = hold and gap < idm_values[0] + move_off_room
            if light_decel == light_decel:  # not NaN: a light stop is set
                room = light_station - (s + front)
                light = light_stop_accel(
                    v, room, light_gap, light_decel, light_gain, limits[2]
                )  # fmt: skip
                # the light stop sets the speed: no speed fraction below it
                desired = _interp(s, station_m, profile)
                accel = min(idm_scalar(v, desired, gap, lead_v, idm_values, lead_followed), light)
                hold = hold or (v <= 0.0 and room - light_gap < move_off_room)
            else:
                desired = fractions[p] * _interp(s, station_m, profile)
                accel = idm_scalar(v, desired, gap, lead_v, idm_values, lead_followed)
            accel = min(
                accel,
                speed_drop_accel(
                    v, s, drop_station, drop_speed, drop_decel, drop_max_decel, light_gain
                ),
            )
            if hold:
                accel = min(accel, 0.0)
            # the shifted path's curvature over the step (feed-forward), corrected by pure
            # pursuit of the point look ahead against the path's own chord to it
            off = offsets[p]
            look = max(look_min, look_time * v)
            tx, ty, _, _ = _path_pose(station_m, xy_m, seg_cos, seg_sin, s + look, off)
            # the path point at s, once: shifted here, unshifted for the Newton step below
            px0, py0, c, sn = _path_pose(station_m, xy_m, seg_cos, seg_sin, s, 0.0)
            px, py = px0 - off * sn, py0 + off * c
            kappa = _interp(s + 0.5 * v * dt, station_m, curvature)
            kappa = kappa / max(1.0 - off * kappa, 0.1)  # the shifted path's
            steer = feed_forward_steering_scalar(
                math.atan2(ty - y, tx - x) - yaw, math.hypot(tx - x, ty - y),
                math.atan2(ty - py, tx - px) - _interp(s, station_m, tangent_yaw),
                math.hypot(tx - px, ty - py), kappa, wheelbase, max_steer,
            )  # fmt: skip
            x, y, yaw, v, a, d = bicycle_update(x, y, yaw, v, a, d, accel, steer, dt, limits)
            # one Newton step of the projection onto the path (s is unchanged since px0)
            s = s + (x - px0) * c + (y - py0) * sn
    return states, stations, gaps, closing


@njit(cache=True)
def _corridor_soon(lateral_m, half_m, offsets_m, lookahead_steps, n_k):  # pragma: no cover
    """``(P, A, n_k)`` bool: is agent a inside proposal p's corridor (``|lateral - offset| <
    half``) at some step of ``k .. k + lookahead_steps`` (within the forecast ``(A, T+1)``)?"""
    n_prop = offsets_m.shape[0]
    n_agents, n_t = lateral_m.shape
    soon = np.zeros((n_prop, n_agents, n_k), dtype=np.bool_)
    count = np.zeros(n_t + 1, dtype=np.int64)
    for p in range(n_prop):
        for a in range(n_agents):
            for k in range(n_t):  # count[k]: steps inside before k
                inside = abs(lateral_m[a, k] - offsets_m[p]) < half_m[a]
                count[k + 1] = count[k] + (1 if inside else 0)
            for k in range(min(n_k, n_t + 1)):
                end = min(k + lookahead_steps + 1, n_t)
                soon[p, a, k] = count[end] - count[k] > 0
    return soon


def rollout(
    start: BicycleState,
    path: ReferencePath,
    tree: cKDTree,
    offsets_m: np.ndarray,
    speed_fractions: np.ndarray,
    speed_profile_mps: np.ndarray,
    agents: PathAgents,
    n_steps: int,
    dt_s: float,
    vehicle: VehicleParams,
    idm: IDMParams,
    stop_station_m: float | None = None,
    entry_lookahead_steps: int = 10,
    corridor_margin_m: float = 0.4,
    lookahead_time_s: float = 0.9,
    min_lookahead_m: float = 4.0,
    start_station_m: float | None = None,
    hold_run_into_agents: bool = False,
    light_stop_station_m: float | None = None,
    light_stop_decel_mps2: float | None = None,
    light_stop_gap_m: float | None = None,
    speed_drops: SpeedDrops | None = None,
) -> Rollout:
    """Simulate P = len(offsets_m) proposals from the single state ``start`` (B = 1).

    Proposal p drives at IDM desired speed ``speed_fractions[p] * speed_profile_mps(s)``
    (the profile is ``(N,)``, one value per path point). With the ACC model (``idm.coolness >
    0``) its CAH keeps IDM's gap behind a leader in the proposal's corridor at the start
    (:func:`~drivestack.planning.idm.idm_scalar`'s ``keep_gap``: the car it follows) and is
    Treiber and Kesting's for one the forecast brings into the corridor later (a cut-in). ``speed_drops``: lower limits
    ahead (slower lanes, bends) the speed must be down to on reaching them; each step's
    acceleration is at most :func:`speed_drop_accel`'s, the constant-deceleration approach
    to each at ``speed_drops.decel_mps2`` (IDM alone lags a falling desired speed: it entered
    a 8.33 m/s limit from 20 m/s at 11.4 m/s, braking at ``(v / v0)^4 - 1`` of ``a_max``,
    and a 58 m-radius bend at 15.2 m/s where 2.5 m/s^2 of lateral acceleration allows 12.1).
    Standing (speed 0) behind a standing leader (an agent at most
    :data:`STANDING_LEADER_SPEED_MPS` along the path, the stop before the route's end, a
    light's stop point) with less than :data:`MOVE_OFF_ROOM_M` beyond its standstill gap, a
    proposal stays standing (IDM would creep up to the gap). Steering: the shifted path's
    curvature half a step ahead (``path.smoothed_curvature_1pm``, ``kappa / (1 - offset
    kappa)`` for a shift) with pure pursuit's correction towards the point
    ``max(min_lookahead_m, lookahead_time_s * v)`` ahead
    (:func:`~drivestack.planning.control.tracker.feed_forward_steering_scalar`): on the path
    the proposal follows its bends instead of cutting them. ``hold_run_into_agents``: an agent a
    proposal runs into from behind (in its corridor, stations overlapping, the agent's centre
    ahead of the ego's) stays its leader at gap 0 after the ego has passed through it, so the
    proposal stays stopped instead of driving on (for a planner that does not score its
    proposals for collisions, as the IDM baseline; PDM's scoring rejects such proposals).

    ``light_stop_station_m`` with ``light_stop_decel_mps2`` (both or neither): a traffic
    light's stop line (a station on ``path``) to stop before at that constant deceleration
    ``b``. Each step's acceleration is the lower of IDM's and ``-v^2 / (2 D) + k (sqrt(2 b d)
    - v)``, ``d`` the distance from the front bumper to the stop point ``idm.min_gap_m``
    before the line, ``D = max(d, room / 2)`` with ``room`` the distance to the line, and
    ``k = LIGHT_STOP_GAIN_PER_S`` (:func:`light_stop_accel`): on the curve ``v = sqrt(2 b
    d)`` that is ``-b``, below it gentler and above it harder, both converging onto it, so
    the proposal coasts, then brakes at about ``b`` to rest near the stop point (and never
    moves on from standing past it). The proposal's speed fraction is not applied (its IDM
    drives towards the full speed profile): the light stop sets every proposal's speed, and
    a low target speed adds no braking of its own (IDM's free-road braking towards a fraction
    of the speed starts at once and harder than the stop decided, about 3.8 m/s^2 for 0.4 of
    50 km/h, and PDM took it whenever a forecast agent made the full-speed proposals
    uncomfortable near the line). The line is not an IDM leader (nor in ``gap_m``): IDM's
    braking for a standing leader peaks far above the constant deceleration. Without them
    (``None``), every step is as before, bit for bit. ``light_stop_gap_m``: the stop point's
    distance before the line in place of ``idm.min_gap_m`` (a hard stop at a red light that
    has no room for the full gap:
    :class:`~drivestack.planning.traffic_lights.LightDecision`'s ``stop_gap_m``).
    """
    offsets = np.ascontiguousarray(offsets_m, dtype=np.float64)
    n_prop = len(offsets)
    if start_station_m is None:
        start_station_m = float(
            fast_project(path, tree, np.array([[start.x_m[0], start.y_m[0]]]))[0][0]
        )
    # which agents occupy (or will within the look-ahead) each proposal's corridor, per time
    half = agents.half_width_m + vehicle.width_m / 2 + corridor_margin_m
    lateral = np.ascontiguousarray(agents.lateral_m, dtype=np.float64)
    half = np.ascontiguousarray(half, dtype=np.float64)
    soon = _corridor_soon(lateral, half, offsets, int(entry_lookahead_steps), int(n_steps) + 1)
    # in the corridor at the start (the leader the ego follows): its ACC keeps IDM's gap
    # (P, A): |lateral at step 0 - offset| < half, as _corridor_soon's step 0 with no look-ahead
    first = lateral[None, :, :1]
    followed = np.ascontiguousarray(
        (np.abs(first - offsets[:, None, None]) < half[None, :, None]).any(axis=2)
    )
    # in the corridor now (not soon): read only when run-into agents are held (IDM baseline)
    inside = (
        _corridor_soon(lateral, half, offsets, 0, int(n_steps) + 1)
        if hold_run_into_agents
        else np.zeros((0, 0, 0), dtype=np.bool_)
    )
    start_vec = np.array(
        [
            start.x_m[0],
            start.y_m[0],
            start.yaw_rad[0],
            start.speed_mps[0],
            start.acceleration_mps2[0],
            start.steering_rad[0],
        ]
    )
    seg_cos, seg_sin, _ = path.segments
    drops = speed_drops or _NO_DROPS
    states, stations, gaps, closing = _rollout_kernel(
        start_vec,
        start_station_m,
        path.station_m,
        path.xy_m,
        seg_cos,
        seg_sin,
        np.ascontiguousarray(speed_profile_mps, dtype=np.float64),
        offsets,
        np.ascontiguousarray(np.broadcast_to(speed_fractions, (n_prop,)), dtype=np.float64),
        np.ascontiguousarray(agents.station_m),
        agents.half_length_m,
        np.ascontiguousarray(agents.along_speed_mps),
        np.ascontiguousarray(soon),
        inside,
        followed,
        np.nan if stop_station_m is None else float(stop_station_m),
        int(n_steps),
        float(dt_s),
        vehicle.limits,
        idm.values,
        vehicle.front_offset_m,
        vehicle.rear_overhang_m,
        float(lookahead_time_s),
        float(min_lookahead_m),
        bool(hold_run_into_agents),
        np.nan if light_stop_station_m is None else float(light_stop_station_m),
        np.nan if light_stop_decel_mps2 is None else float(light_stop_decel_mps2),
        LIGHT_STOP_GAIN_PER_S,
        float(idm.values[0] if light_stop_gap_m is None else light_stop_gap_m),
        drops.station_m,
        drops.speed_mps,
        drops.decel_mps2,
        drops.max_decel_mps2,
        path.tangent_yaw_rad,
        path.smoothed_curvature_1pm,
        MOVE_OFF_ROOM_M,
    )
    return Rollout(states, stations, gaps, closing)


def stop_along_heading(
    start: BicycleState,
    path: ReferencePath,
    tree: cKDTree,
    n_steps: int,
    dt_s: float,
    vehicle: VehicleParams,
    decel_mps2: float,
) -> Rollout:
    """The stop of the single state ``start`` (B = 1) straight on along its heading, P = 1.

    ``n_steps`` steps of ``dt_s`` of the bicycle model under a braking command of
    ``decel_mps2`` and a front-wheel command of 0: within the vehicle's jerk and
    steering-rate limits it brakes, turns its wheels straight (at the rate limit; no steering
    at all when they start straight) and stops, then stays stopped. ``station_m`` are the
    states' stations along ``path``, ``gap_m`` 0 (a stop at the ego, as :func:`rollout`'s with
    its stop behind the start holds) and ``closing_speed_mps`` the speed.
    """
    step: Any = bicycle_update  # a numba dispatcher
    states = np.empty((1, n_steps + 1, 6))
    states[0, 0] = [getattr(start, name)[0] for name in _FIELDS]
    for k in range(n_steps):
        x, y, yaw, v, a, d = states[0, k]
        states[0, k + 1] = step(x, y, yaw, v, a, d, -float(decel_mps2), 0.0, dt_s, vehicle.limits)
    station_m, _ = fast_project(path, tree, states[0, :, :2])
    gap_m = np.zeros((1, n_steps + 1))
    return Rollout(states, station_m[None, :], gap_m, states[:, :, 3].copy())
