"""PDM-Closed-style planner (Dauner et al. 2023) and the plain IDM baseline.

PDM step, as numbered array steps:
  1. project the ego onto the route's reference path, and find the stop line of a traffic
     light it must stop at (:mod:`~drivestack.planning.traffic_lights`: red or yellow within
     the allowed deceleration, ``debug.light_stop``) and of a stop sign it has not yet stood
     at for ``stop_sign_dwell_s`` (:mod:`~drivestack.planning.stop_signs`,
     ``debug.sign_stop``); the nearer of the two is the rollouts' stop;
  2. forecast the agents (constant velocity by default) over the horizon, a car driving
     along its lane towards a light it stops at stopped at the line
     (:mod:`~drivestack.planning.light_forecast`);
  3. build proposals: lateral offsets x IDM target speeds (fractions of the speed limit);
     where the route asks for a lane change (the ego in a lane that is not the route's) and
     no proposal along the route is unhindered (avoids collisions, stays on the drivable
     area, keeps its time to collision and is comfortable), also the ego's own lane's
     centreline x the same speeds (:meth:`_RolloutPlanner._own_lane_offset_m`), simulated
     and scored with the others: the ego waits in its lane for a gap. A route whose first
     step is a lane change (the ego's lane, then its neighbour) changes lanes from where the
     ego is, along a blend 4 s long at the lane's limit, unless the plain IDM plan doing so
     overlaps an agent on that side or brakes hard behind one where keeping to the lane would
     not: then the change is put off and tried again every step
     (:meth:`_RolloutPlanner._place_lane_change`, both planners);
  4. simulate every proposal with IDM + curvature-feed-forward steering + the bicycle model
     (vectorised; the ACC model's CAH keeps IDM's gap behind the agent the proposal follows
     from its start, :func:`~drivestack.planning.idm.idm_scalar`'s ``keep_gap``, and tempers
     IDM only for agents the forecast brings into its corridor later, a cut-in), the route's
     end a stationary leader and, when that stop line comes first,
     a stop before it at the light decision's constant deceleration; each proposal is down to
     a lower speed limit ahead when its front bumper reaches that lane, and to a bend's
     ``sqrt(max_lat_accel_mps2 / |kappa|)`` on reaching it, having braked at
     ``speed_limit_decel_mps2`` (:class:`~drivestack.planning.proposals.SpeedDrops`), and a
     proposal standing behind a standing leader stays standing within
     :data:`~drivestack.planning.proposals.MOVE_OFF_ROOM_M` of its standstill gap;
  5. score them with the evaluation's metrics (collision, drivable area, progress, TTC,
     speed limit, comfort) over the scoring horizon;
  6. take the best; totals within ``SCORE_TIE_TOLERANCE`` of it tie, and a tie goes to the
     smallest lateral offset (:func:`choose_proposal`: with nothing in the way the ego keeps
     to the route's centreline); an offset that moves the ego off the one it holds, other
     than towards the centreline, must gain more than ``offset_switch_margin`` unless it is
     cleaner (:func:`hold_offset`: no swerving out and back for a few per cent of progress
     from one frame's forecast). Brake instead (:func:`stop_reason`, ``debug.stop_reason``):
     as hard as allowed (``emergency_decel_mps2``, ``debug.emergency``) when every proposal
     collides, or when no proposal both avoids collisions and stays on the drivable area (its
     total, and so every total, is 0: no proposal is admissible, and proposal 0 is never taken
     by default); when every proposal leaves the drivable area without a collision (e.g. the
     ego is off the road, or a road's end ahead), when the ego faces against the route (more
     than 90 degrees off its direction) or when the best proposal drives (more than
     ``NO_PROGRESS_TRAVEL_M``) without progress along the route, at the comfortable
     deceleration, holding the stop, unless that stop would take the ego, still on the
     drivable area, off it (or farther off): then as hard as staying on needs, up to
     ``emergency_decel_mps2`` (``debug.brake_decel_mps2``;
     :meth:`_RolloutPlanner._stop_along_heading`). Those last three stops go straight on
     along the ego's heading (wheels straightened at the steering-rate limit;
     :func:`~drivestack.planning.proposals.stop_along_heading`), the two emergency stops
     along the route shifted to the ego's own lateral offset (its lane, never steering
     towards the route's lane: :meth:`PDMPlanner._braking`, which compares tuplan_garage's
     emergency brake). Turning round or rejoining the road is left to the driver.

An agent whose footprint already overlaps the ego's at the observation (k = 0: a collision in
progress, or a ghost track of the ego's own returns) is treated alike by both planners: unless
it is behind the ego (its centre more than 150 degrees off the ego's heading seen from the
ego's box centre: nuPlan's angle, though nuPlan's evaluation and drivestack's look from the
rear axle, :mod:`~drivestack.eval.driving.nuplan`; so it is running into the ego), it is an
obstacle the ego is in contact with: the ego brakes to a stop and does not drive on while
it overlaps (from speed the ego may pass through it while braking; once it is behind, it no
longer counts). PDM counts every proposal that moves while still overlapping it as
colliding, whatever the bearing at later steps (an agent driven through ends up behind the
ego's centre), so it brakes as hard as allowed with
``stop_reason = "every proposal collides"``; the IDM baseline holds it as a leader at gap 0
(:func:`~drivestack.planning.proposals.rollout`, ``hold_run_into_agents``) and brakes within
``idm.max_decel_mps2``.

Both planners stop for the lights of the route's lanes as ``Observation.traffic_lights``
reports them (the rule: :mod:`~drivestack.planning.traffic_lights`; a red light is stopped
for when the constant deceleration to the stop point ``idm.min_gap_m`` before the line is at
most ``PDMParams.light_stop_decel_mps2``, and beyond that when the front can still come to
rest at the line within the braking limit (the larger of ``light_stop_decel_mps2`` and
``idm.max_decel_mps2``, at most the vehicle's ``max_decel_mps2``; the stop point then nearer
the line); a red that cannot be stopped for at the line is driven through (stopping inside
the junction is worse); a yellow one is stopped for when it needs at most
``idm.comfort_decel_mps2``; an unknown one as ``PDMParams.unknown_light`` says: go, or as
yellow). Every proposal's rollout
then follows the constant-deceleration speed ``sqrt(2 b d)`` to that stop point, ``d`` away,
at ``b = max(need, idm.comfort_decel_mps2)`` (:func:`~drivestack.planning.proposals.rollout`'s
``light_stop_station_m``, in place of IDM's braking for a stationary leader, which peaks far
above the figure checked) and with no speed fraction (the stop sets every proposal's speed:
a fraction's IDM braking, at once and harder than the stop decided, was taken whenever a
forecast agent made the full-speed proposals uncomfortable near the line), so the stop does
not bias the choice; standing there no proposal
progresses more than 0.5 m, so the progress scores tie (all 1) and the no-progress stop,
which needs a proposal that travels, does not trigger. With no light to stop at, both plan
exactly (bit for bit) as without lights.

Both planners stop at the stop signs (kinds ``stop`` and ``all_way_stop``) of the route's
lanes with the same stop law and stop point (``idm.min_gap_m``, at most 2 m, before the line:
:func:`~drivestack.planning.stop_signs.sign_stop_gap_m`), stand there (speed under 0.1 m/s,
the front at most :data:`~drivestack.planning.stop_signs.STOP_WINDOW_M` before the line, the
``no_stop_sign_violation`` metric's window) for ``stop_sign_dwell_s``, and then go
(:mod:`~drivestack.planning.stop_signs`): at an ``all_way_stop`` only once no agent that
stopped at another of its lines before the ego still stands there or crosses the junction
(the rule's arrival order, fed the observed agents and the ego every step); then PDM when
its scoring finds a proposal clear of the crossing traffic, the IDM baseline at once. With no
stop sign on the route, both plan exactly (bit for bit) as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree

from drivestack.kernels._common import magnitude_limit
from drivestack.kernels.corners import bev_corners
from drivestack.planning.idm import ACCParams, IDMParams
from drivestack.planning.light_forecast import stop_forecasts_at_lights
from drivestack.planning.proposals import (
    PathAgents,
    Rollout,
    SpeedDrops,
    agents_on_path,
    fast_project,
    rollout,
    stop_along_heading,
)
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.scoring import (
    DRIVABLE_TOLERANCE_M,
    ProposalScores,
    at_fault_collisions,
    distance_outside_drivable_m,
    score_rollouts,
    stays_on_drivable_area,
)
from drivestack.planning.stop_signs import (
    EGO_ACTOR_ID,
    STOP_SIGN_DWELL_S,
    STOP_WINDOW_M,
    SignDecision,
    SignLine,
    StopSignRule,
    route_sign_stops,
    sign_stop_gap_m,
)
from drivestack.planning.traffic_lights import (
    LIGHT_STOP_DECEL_MPS2,
    LightDecision,
    LightStopRule,
    RouteLightStop,
    check_unknown_light,
    route_light_stops,
)
from drivestack.prediction.forecast import (
    Forecast,
    constant_velocity_forecast,
    lane_following_forecast,
)
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import Observation
from drivestack.structures._checks import check_number
from drivestack.structures.road_map import (
    Lane,
    RoadMap,
    interpolate_polyline,
    project_to_polyline,
)
from drivestack.structures.trajectory import Trajectory


@dataclass(frozen=True)
class PDMParams:
    """The planners' settings; ``TypeError`` / ``ValueError`` naming the field for settings
    they cannot run with (checked in ``__post_init__``, so also through
    ``drivestack.config.from_mapping(PDMParams, mapping)``)."""

    horizon_s: float = 8.0
    dt_s: float = 0.1
    score_horizon_s: float = 4.0
    speed_fractions: tuple[float, ...] = (1.0, 0.8, 0.6, 0.4, 0.2)  # of the speed profile, 0..1
    lateral_offsets_m: tuple[float, ...] = (0.0, 1.0, -1.0)
    # the proposals' ACC model (coolness 0.99 by default, also when only other fields are set)
    idm: ACCParams = field(default_factory=ACCParams)
    entry_lookahead_steps: int = 10
    emergency_decel_mps2: float = 9.0
    prediction: str = "constant_velocity"  # or "lane_following" (PDMPlanner only)
    # the plan's stop before the end of the route: the front bumper stops stop_margin_m +
    # idm.min_gap_m before the route's end (the end is a stopped IDM leader at stop_margin_m)
    stop_margin_m: float = 2.0
    # traffic lights (:mod:`~drivestack.planning.traffic_lights`): the hardest constant
    # deceleration (to the stop point idm.min_gap_m before the line) at which the planners
    # decide to stop for a light in a stop state (red, red-yellow; a red needing more is
    # driven through); a yellow light is stopped for only up to ``idm.comfort_decel_mps2``.
    # The stop is driven at that deceleration (at least the comfortable one)
    light_stop_decel_mps2: float = LIGHT_STOP_DECEL_MPS2
    # what the planners do at a light whose state is unknown: "go" (right for true states,
    # where unknown means the map gives no cycle) or "yellow" (stop when it can do so
    # comfortably, else go: for states read by a camera, ``drivestack sim --lights camera``)
    unknown_light: str = "go"
    # the deceleration the plans slow at for a lower speed limit or a bend ahead: the speed
    # profile keeps v^2 <= v_lim^2 + 2 b d for every limit v_lim d ahead (a lane's limit from
    # where the front bumper enters it), and the rollouts brake onto that approach
    # (:class:`~drivestack.planning.proposals.SpeedDrops`); at most idm.comfort_decel_mps2,
    # which bounds the braking for a lower limit too near to reach at this one
    speed_limit_decel_mps2: float = 1.5
    # the bend speed: the plans are down to sqrt(max_lat_accel_mps2 / |kappa|) on a path of
    # curvature kappa, having braked for it ahead as for a lower lane limit (the speed profile
    # and :class:`~drivestack.planning.proposals.SpeedDrops` read both)
    max_lat_accel_mps2: float = 2.5
    # stop signs (:mod:`~drivestack.planning.stop_signs`): how long (s) the ego stands at a
    # stop sign's line (speed under 0.1 m/s, front within the no_stop_sign_violation metric's
    # STOP_WINDOW_M = 3 m before the line, whatever idm.min_gap_m) before it goes on
    stop_sign_dwell_s: float = STOP_SIGN_DWELL_S
    # PDMPlanner only: a proposal that moves the ego off the offset it holds (the last proposal
    # driven; at the start, or after braking, the ego's own offset), other than towards the
    # route's centreline, is taken only when it scores more than this (totals 0..1) above the
    # best proposal at the held offset or inside it: the plan does not swerve out and back for
    # a few per cent of progress from one frame's forecast (a perceived pedestrian's noisy
    # velocity; :func:`hold_offset`).
    # 0.02 is about 6 % of progress (weight 5/16). Never held: a move towards the centreline,
    # a move to a proposal that avoids collisions, stays on the drivable area, keeps its time
    # to collision and is comfortable from one that does not, and the own-lane proposals of a
    # route asking for a lane change
    offset_switch_margin: float = 0.02

    def __post_init__(self) -> None:
        for name in ("dt_s", "horizon_s", "score_horizon_s", "emergency_decel_mps2"):
            check_number(f"PDMParams.{name}", getattr(self, name), above=0.0)
        for name in ("horizon_s", "score_horizon_s"):
            steps_whole(getattr(self, name), self.dt_s, f"PDMParams.{name}")
        if self.score_horizon_s > self.horizon_s:
            raise ValueError(
                f"PDMParams.score_horizon_s must be at most horizon_s = {self.horizon_s!r}, "
                f"got {self.score_horizon_s!r}"
            )
        for name in ("speed_fractions", "lateral_offsets_m"):
            _check_number_tuple(f"PDMParams.{name}", getattr(self, name))
        if any(v < 0.0 for v in self.speed_fractions):
            raise ValueError(
                f"PDMParams.speed_fractions must be >= 0, got {self.speed_fractions!r}"
            )
        if any(v > 1.0 for v in self.speed_fractions):
            raise ValueError(
                "PDMParams.speed_fractions must be <= 1 (fractions of the speed profile, "
                f"itself at most the speed limit), got {self.speed_fractions!r}"
            )
        if self.prediction not in PREDICTIONS:
            raise ValueError(
                f"PDMParams.prediction must be one of {sorted(PREDICTIONS)}, "
                f"got {self.prediction!r}"
            )
        check_number("PDMParams.entry_lookahead_steps", self.entry_lookahead_steps, integer=True)
        if self.entry_lookahead_steps < 0:
            raise ValueError(
                f"PDMParams.entry_lookahead_steps must be >= 0, got {self.entry_lookahead_steps!r}"
            )
        check_number("PDMParams.stop_margin_m", self.stop_margin_m, at_least=0.0)
        check_number("PDMParams.light_stop_decel_mps2", self.light_stop_decel_mps2, above=0.0)
        check_unknown_light("PDMParams.unknown_light", self.unknown_light)
        if not isinstance(self.idm, ACCParams):
            raise TypeError(
                f"PDMParams.idm must be an ACCParams (IDMParams with the ACC model, coolness "
                f"0.99, as default), got {type(self.idm).__name__}: pass ACCParams(...), or "
                "ACCParams(coolness=0.0) for plain IDM"
            )
        check_number("PDMParams.speed_limit_decel_mps2", self.speed_limit_decel_mps2, above=0.0)
        check_number("PDMParams.max_lat_accel_mps2", self.max_lat_accel_mps2, above=0.0)
        if self.speed_limit_decel_mps2 > self.idm.comfort_decel_mps2:
            raise ValueError(
                "PDMParams.speed_limit_decel_mps2 must be at most idm.comfort_decel_mps2 = "
                f"{self.idm.comfort_decel_mps2!r} (slowing for a speed limit is comfortable "
                f"braking), got {self.speed_limit_decel_mps2!r}"
            )
        check_number("PDMParams.stop_sign_dwell_s", self.stop_sign_dwell_s, at_least=0.0)
        check_number("PDMParams.offset_switch_margin", self.offset_switch_margin, at_least=0.0)
        if self.light_stop_decel_mps2 < self.idm.comfort_decel_mps2:
            raise ValueError(
                "PDMParams.light_stop_decel_mps2 must be at least idm.comfort_decel_mps2 = "
                f"{self.idm.comfort_decel_mps2!r} (the hard braking allowed for a red light "
                f"cannot be gentler than the comfortable one), got {self.light_stop_decel_mps2!r}"
            )

    @property
    def n_steps(self) -> int:
        """Rollout steps: ``horizon_s / dt_s`` (a whole number)."""
        return steps_whole(self.horizon_s, self.dt_s, "PDMParams.horizon_s")

    @property
    def n_score_steps(self) -> int:
        """Scored steps: ``score_horizon_s / dt_s`` (a whole number)."""
        return steps_whole(self.score_horizon_s, self.dt_s, "PDMParams.score_horizon_s")


PREDICTIONS = ("constant_velocity", "lane_following")
NO_PROGRESS_TRAVEL_M = 0.5  # a proposal that travels this far must progress along the route
# totals (0..1) within this of the best tie, and a tie goes to the centred proposal: an offset
# must gain more than 0.5 % of the score (about 1.6 % more progress) to be taken. On a straight
# road offsets tie up to noise (~1e-4); round a bend the inner offset gains about offset /
# radius of progress along the route's stations (geometry, not a reason to leave the lane
# centre), which this covers for 1 m offsets on radii above about 60 m, not in tight turns.
SCORE_TIE_TOLERANCE = 5e-3
# the stop along the heading brakes harder in these steps (m/s^2) until it stays on the
# drivable area (``_RolloutPlanner._stop_along_heading``)
BRAKE_DECEL_STEP_MPS2 = 0.5
# the ego's own lane is a proposal (a route asking for a lane change) only when its centreline
# lies at least this far (m) from every ``lateral_offsets_m`` around the route's
OWN_LANE_MIN_OFFSET_M = 0.5
# PDMPlanner's stop reasons (``PlanDebug.stop_reason``); the first two brake as hard as allowed
# (``emergency_decel_mps2``, ``PlanDebug.emergency``) along the ego's own lane, the others at
# ``idm.comfort_decel_mps2`` (harder where that would leave the drivable area) straight on
# along the ego's heading
EMERGENCY_REASONS = (
    "every proposal collides",
    "no collision-free proposal stays on the drivable area",
)
STOP_REASONS = (
    *EMERGENCY_REASONS,
    "no proposal stays on the drivable area",
    "facing against the route",
    "no progress along the route",
)


def _check_number_tuple(where: str, values: tuple[float, ...]) -> None:
    """``TypeError`` unless ``values`` is a tuple of numbers, ``ValueError`` when it is empty
    or holds a NaN or an infinity (naming ``where``, and ``where[i]`` for an element)."""
    if not isinstance(values, tuple | list):
        raise TypeError(f"{where} must be a tuple of numbers, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{where} must be a non-empty tuple of finite numbers, got {values!r}")
    for i, v in enumerate(values):
        check_number(f"{where}[{i}]", v)


def check_agent_reach(obs: Observation, horizon_s: float) -> None:
    """``ValueError`` naming the row of ``obs.agents`` whose position, size or position at the
    end of a constant-velocity ``horizon_s`` forecast lies beyond the kernels'
    :func:`~drivestack.kernels._common.magnitude_limit` (about 3.5e101 m): the forecast and
    the collision checks overflow there (a 1e300 m/s velocity failed inside the forecast
    without naming the agent)."""
    agents = obs.agents
    if not len(agents):
        return
    limit = magnitude_limit(np.float64)
    with np.errstate(over="ignore"):
        speed = np.hypot(agents.velocity_mps[:, 0], agents.velocity_mps[:, 1])
        reach = np.max(np.abs(agents.center_m), axis=1) + speed * horizon_s
    bad = (reach > limit) | np.any(agents.size_m > limit, axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Observation.agents row {row} (id {obs.agent_ids[row]!r}): centre "
            f"{agents.center_m[row].tolist()} m, size {agents.size_m[row].tolist()} m, velocity "
            f"{agents.velocity_mps[row].tolist()} m/s reach beyond +-{limit:.3g} m within the "
            f"{horizon_s} s horizon: too far to compute with"
        )


def steps_whole(duration_s: float, dt_s: float, name: str) -> int:
    """``duration_s / dt_s`` as an int (to 1e-9 relative); ``ValueError`` naming ``name`` when
    it is not a whole number of steps of at least 1."""
    ratio = duration_s / dt_s
    n = round(ratio)
    if n < 1 or abs(ratio - n) > 1e-9 * max(1.0, ratio):
        raise ValueError(
            f"{name} must be a whole number (>= 1) of dt_s = {dt_s!r} steps, got {duration_s!r}"
        )
    return int(n)


@dataclass
class PlanDebug:
    """What the last step looked at (for tests and logs)."""

    offsets_m: np.ndarray
    speed_fraction: np.ndarray
    scores: ProposalScores | None
    chosen: int
    emergency: bool
    # why the plan is the braking one instead of a proposal (then ``chosen`` is -1): None or
    # one of ``STOP_REASONS`` (see :func:`stop_reason`)
    stop_reason: str | None = None
    # the traffic light whose stop line the plan stops at (every proposal stops before it,
    # unless the route's end's stop comes first), or None; ``lights_committed``: lights
    # ahead showing yellow or a stop state that the ego carries on through (see
    # :mod:`~drivestack.planning.traffic_lights`)
    light_stop: str | None = None
    lights_committed: tuple[str, ...] = ()
    # the stop sign whose line the plan holds for (stops, or stands, before it until released:
    # :mod:`~drivestack.planning.stop_signs`), or None
    sign_stop: str | None = None
    # the braking plan's commanded deceleration (m/s^2) when ``chosen`` is -1, else None
    brake_decel_mps2: float | None = None


class _RolloutPlanner:
    """Shared parts: the reference path, the forecast and turning a rollout into a Trajectory."""

    name = "base"
    # the route's light and sign rules (built with the reference path, ``_use_route``)
    _lights: LightStopRule
    _signs: StopSignRule

    def __init__(
        self,
        road_map: RoadMap,
        route_lanes: list[str] | tuple[str, ...],
        vehicle: VehicleParams | None = None,
        params: PDMParams | None = None,
    ) -> None:
        if not isinstance(route_lanes, list | tuple):
            raise TypeError(
                f"route_lanes must be a list of lane ids, got {type(route_lanes).__name__} "
                f"{route_lanes!r}"
                + (f" (for one lane: [{route_lanes!r}])" if isinstance(route_lanes, str) else "")
            )
        self.route_lanes = list(route_lanes)
        self._route_set = set(self.route_lanes)
        self._lateral_m = 0.0
        if not self.route_lanes:
            raise ValueError(
                f"route_lanes: the route needs at least one lane id, got {route_lanes!r}"
            )
        self.road_map = road_map
        self.vehicle = vehicle or VehicleParams()
        self.params = params or PDMParams()
        self.debug: PlanDebug | None = None
        # a route whose first step is a lane change changes lanes from where the ego starts:
        # its reference path is built again at the first step (``_start``), from the ego's
        # station on the first lane
        first = road_map.lane(self.route_lanes[0])
        self._changes_lane_first = (
            len(self.route_lanes) > 1 and self.route_lanes[1] not in first.successors
        )
        # the lane it changes to (through neighbours, a change over several lanes)
        k = 1
        while k + 1 < len(self.route_lanes) and self.route_lanes[k + 1] not in (
            road_map.lane(self.route_lanes[k]).successors
        ):
            k += 1
        self._change_target = self.route_lanes[min(k, len(self.route_lanes) - 1)]
        self._placed = False  # since the last reset
        self._placed_at_m: float | None = None  # where the reference's lane change begins
        self._change_pending = False  # postponed: the target lane was not clear
        # plain IDM (coolness 0): the IDM planner's plans and the lane-change check's, built once
        self._plain_idm = replace(self.params.idm, coolness=0.0)
        self._all_way_lines: dict[str, tuple[SignLine, ...]] = {}  # by sign id (_use_route)
        self._use_route(None)
        # the agents' lane chains' light stops, found as chains come up (``_forecast``)
        self._chain_stops: dict[tuple[str, ...], tuple[RouteLightStop, ...]] = {}
        self._prepare()

    def _use_route(self, start_station_m: float | None) -> None:
        """Build the reference path along the route (its lane change from the first lane
        begins at ``start_station_m`` there, None: midway,
        :meth:`~drivestack.structures.road_map.RoadMap.route_centerline`) and what the plans
        read from it: the speed profile, its drops and the route's traffic-light stops."""
        road_map = self.road_map
        old_rules = (self._lights, self._signs) if hasattr(self, "_signs") else None
        self.reference = ReferencePath.from_route(
            road_map, self.route_lanes, start_station_m=start_station_m
        )
        self._tree = cKDTree(self.reference.xy_m)
        # lane limits from where the front bumper enters a lane (its rear-axle station), and
        # the bends' lateral-acceleration limit: the profile and the drops the rollouts brake
        # for (IDM alone lags a falling desired speed, into a bend as into a slower lane)
        front = self.vehicle.front_offset_m
        decel, lat = self.params.speed_limit_decel_mps2, self.params.max_lat_accel_mps2
        limits = self.reference.speed_limits(lat, ahead_m=front)
        self._profile = self.reference.braking_profile(limits, decel)  # = speed_profile
        self._drops = SpeedDrops.along(
            self.reference.station_m,
            limits,
            decel,
            self.params.idm.comfort_decel_mps2,
        )
        max_decel = max(self.params.light_stop_decel_mps2, self.params.idm.max_decel_mps2)
        self._lights = LightStopRule(
            route_light_stops(road_map, self.route_lanes, self.reference),
            self.vehicle.front_offset_m,
            comfort_decel_mps2=self.params.idm.comfort_decel_mps2,
            stop_decel_mps2=self.params.light_stop_decel_mps2,
            max_decel_mps2=max_decel,
            stop_gap_m=self.params.idm.min_gap_m,
            unknown_light=self.params.unknown_light,
            # a red is stopped for up to the braking limit when the front can rest at the line
            hard_stop_decel_mps2=max(
                self.params.light_stop_decel_mps2, min(max_decel, self.vehicle.max_decel_mps2)
            ),
        )
        self._signs = StopSignRule(
            route_sign_stops(road_map, self.route_lanes, self.reference, self._all_way_lines),
            self.vehicle.front_offset_m,
            comfort_decel_mps2=self.params.idm.comfort_decel_mps2,
            max_decel_mps2=max_decel,
            stop_gap_m=sign_stop_gap_m(self.params.idm.min_gap_m),
            window_m=STOP_WINDOW_M,
            dwell_s=self.params.stop_sign_dwell_s,
        )
        if old_rules is not None:  # built again (a lane change moved): decisions kept
            self._lights.carry_from(old_rules[0])
            self._signs.carry_from(old_rules[1])

    def _prepare(self) -> None:
        """What a planner derives once from its settings (none here)."""

    def reset(self) -> None:
        self.debug = None
        self._lights.reset()
        self._signs.reset()
        self._placed = False
        self._change_pending = False

    def _place_lane_change(self, obs: Observation, start: BicycleState) -> None:
        """Where the route's first step is a lane change, begin it where the ego is on the
        first lane (a fixed blend midway along the lane made the ego drive on in its lane,
        then brake for the blend's bends): at the first step, and at every step after while
        it is put off. It is put off (begins :meth:`_postpone_m` ahead of the ego, so the
        plans keep to the ego's lane) while the plain IDM plan changing lanes from the ego
        overlaps an agent on the side it changes to (:meth:`_change_blocked`), or brakes
        harder than ``idm.comfort_decel_mps2`` (cutting in close behind a car) where the plan
        keeping to the lane would not: the ego waits in its lane for the gap. The reference
        path (and what is read from it) is built again whenever the place moves."""
        if self._placed and not self._change_pending:
            return  # begun from where the ego was clear to change lanes
        lane = self.road_map.lane(self.route_lanes[0])
        xy = np.array([[obs.ego.x_m, obs.ego.y_m]])
        station = float(np.clip(lane.project(xy)[0][0], 0.0, lane.length_m))
        self._placed = True
        self._move_lane_change(station)
        p = self.params
        forecast = (
            constant_velocity_forecast(obs.agents, p.horizon_s, p.dt_s) if len(obs.agents) else None
        )
        change = self._change_plan(obs, start, forecast)
        blocked = (
            change is not None
            and forecast is not None
            and self._change_blocked(obs, change, forecast, lane, station)
        )
        if blocked or (change is not None and self._brakes_hard(change)):
            ahead = station + self._postpone_m(start)
            self._move_lane_change(ahead)
            if not blocked:  # braking hard behind the car it cuts in behind: wait unless the
                own = self._change_plan(obs, start, forecast)  # ego's own lane brakes as hard
                blocked = own is not None and not self._brakes_hard(own)
                if not blocked:
                    self._move_lane_change(station)
        self._change_pending = blocked

    def _move_lane_change(self, station_m: float) -> None:
        """Build the route's reference path with its lane change beginning at ``station_m``
        on the first lane (unless it does already)."""
        if station_m != self._placed_at_m:
            self._use_route(station_m)
            self._placed_at_m = station_m

    def _postpone_m(self, start: BicycleState) -> float:
        """How far ahead of the ego a blocked lane change is put: the planning horizon's drive
        at the ego's speed (at least 1 m/s), so that no plan leaves the ego's lane."""
        return max(float(start.speed_mps[0]), 1.0) * self.params.horizon_s

    def _change_plan(
        self, obs: Observation, start: BicycleState, forecast: Forecast | None
    ) -> Rollout | None:
        """The plain IDM plan along the reference path as it is now built (0 offset, full
        speed) among the agents' constant-velocity ``forecast``; None without agents
        (``forecast`` None: nothing to wait for)."""
        if forecast is None:
            return None
        p = self.params
        agents = agents_on_path(self.reference, self._tree, forecast)
        s0, _ = fast_project(self.reference, self._tree, np.array([[obs.ego.x_m, obs.ego.y_m]]))
        plan = rollout(
            start, self.reference, self._tree, np.zeros(1), np.ones(1), self._profile, agents,
            p.n_steps, p.dt_s, self.vehicle, self._plain_idm, self._stop_station_m,
            entry_lookahead_steps=0, start_station_m=float(s0[0]), speed_drops=self._drops,
        )  # fmt: skip
        return plan

    def _change_blocked(
        self,
        obs: Observation,
        plan: Rollout,
        forecast: Forecast,
        lane: Lane,
        station_m: float,
    ) -> bool:
        """Does ``plan``, the route's lane change from the ego's station ``station_m`` on the
        first route lane ``lane``, overlap an agent of ``forecast`` on the side the route
        changes to (its centre more than half the lane change's offset that way from
        ``lane``'s centreline, :meth:`_overlaps_beside`)?"""
        target = self.road_map.lane(self._change_target)
        centre, _ = interpolate_polyline(lane.centerline_m, np.array([station_m]))
        side = -float(project_to_polyline(target.centerline_m, centre)[1][0])  # (m, left)
        _, lateral = lane.project(obs.agents.center_m[:, :2])
        beside = (np.sign(lateral) == np.sign(side)) & (np.abs(lateral) > 0.5 * abs(side))
        return self._overlaps_beside(plan, forecast, beside)

    def _brakes_hard(self, result: Rollout) -> bool:
        """Does plan 0 of ``result`` brake harder than ``idm.comfort_decel_mps2`` within
        ``score_horizon_s``?"""
        accel = result.field("acceleration_mps2")[0, : self.params.n_score_steps + 1]
        return bool(np.min(accel) < -self.params.idm.comfort_decel_mps2)

    def _overlaps_beside(self, result: Rollout, forecast: Forecast, beside: np.ndarray) -> bool:
        """Does plan 0 of ``result``, lengthened by ``idm.min_gap_m`` at both ends, overlap
        within ``score_horizon_s`` the forecast of an agent marked ``beside (A,)``, whatever
        its bearing (beside or behind: the plan would cut into it)?"""
        if not beside.any():
            return False
        n = self.params.n_score_steps
        boxes = result.boxes(self.vehicle, n)
        boxes[..., 3] += 2.0 * self.params.idm.min_gap_m  # IDM's standstill gap at both ends
        speed = result.field("speed_mps")[:, : n + 1]
        hit = at_fault_collisions(
            boxes[:, 1:], speed[:, 1:], forecast.boxes[beside, 1 : n + 1],
            in_contact=np.ones(int(beside.sum()), dtype=bool),  # every bearing counts
        )  # fmt: skip
        return bool(hit[0])

    def step(self, obs: Observation) -> Trajectory:
        raise NotImplementedError

    def _start(self, obs: Observation) -> tuple[BicycleState, float]:
        """The ego as a bicycle state and its station on the reference path (``ValueError``
        when the observation is not in the map's frame, or an agent is beyond the kernels'
        reach: :func:`check_agent_reach`)."""
        e = obs.ego
        if e.frame != self.road_map.frame:
            raise ValueError(
                f"the observation is in frame {e.frame!r}, the map in {self.road_map.frame!r}: "
                "plan with the ego and agents in the map frame"
            )
        check_agent_reach(obs, self.params.horizon_s)
        start = BicycleState.of(
            e.x_m, e.y_m, e.yaw_rad, e.speed_mps, e.acceleration_mps2, e.steering_rad
        )
        if self._changes_lane_first:
            self._place_lane_change(obs, start)
        s0, d0 = fast_project(self.reference, self._tree, np.array([[e.x_m, e.y_m]]))
        self._lateral_m = float(d0[0])  # the ego's lateral offset from the route (m, left)
        return start, float(s0[0])

    @property
    def _stop_station_m(self) -> float:
        """Stop before the end of the route."""
        return self.reference.length_m - self.params.stop_margin_m

    def _observe_arrivals(self, obs: Observation) -> None:
        """Feed the route's all-way stops' arrival orders the observed agents and the ego
        (its footprint's centre, :data:`~drivestack.planning.stop_signs.EGO_ACTOR_ID`)."""
        agents, ego, vehicle = obs.agents, obs.ego, self.vehicle
        yaw = float(ego.yaw_rad)
        centre = (
            float(ego.x_m) + vehicle.center_offset_m * math.cos(yaw),
            float(ego.y_m) + vehicle.center_offset_m * math.sin(yaw),
        )
        self._signs.observe(
            (*obs.agent_ids, EGO_ACTOR_ID),
            np.vstack([agents.center_m[:, :2], centre]),
            np.append(agents.yaw_rad, yaw),
            np.append(
                np.hypot(agents.velocity_mps[:, 0], agents.velocity_mps[:, 1]),
                abs(float(ego.speed_mps)),
            ),
            np.append(agents.size_m[:, 0], vehicle.length_m),
            obs.timestamp_ns,
        )

    def _line_stops(
        self, obs: Observation, station_m: float
    ) -> tuple[LightDecision, SignDecision, dict]:
        """This step's traffic-light and stop-sign decisions and the rollout's stop-line
        arguments: of the light's line and the sign's line to stop at, the nearer (the
        light's on a tie), when it comes before the route end's stop
        (:attr:`_stop_station_m`): every proposal stops there at its decision's constant
        deceleration and gap (:func:`rollout`'s ``light_stop_station_m``,
        ``light_stop_decel_mps2`` and ``light_stop_gap_m``; none otherwise: the plans are as
        without lights and signs)."""
        speed = float(obs.ego.speed_mps)
        light = self._lights.step(obs.traffic_lights, station_m, speed)
        if self._signs.orders:  # all-way stops: who stopped first goes first
            self._observe_arrivals(obs)
        sign = self._signs.step(station_m, speed, obs.timestamp_ns)
        lines = [
            (at, decel, gap)
            for at, decel, gap in (
                (light.station_m, light.decel_mps2, light.stop_gap_m),
                (sign.station_m, sign.decel_mps2, self._signs.stop_gap_m),
            )
            if at is not None and at < self._stop_station_m
        ]
        if not lines:
            return light, sign, {}
        at, decel, gap = min(lines, key=lambda line: line[0])
        return (
            light,
            sign,
            {
                "light_stop_station_m": at,
                "light_stop_decel_mps2": decel,
                "light_stop_gap_m": gap,
            },
        )

    @property
    def _hardest_decel_mps2(self) -> float:
        """The hardest braking the planner plans: ``idm.max_decel_mps2`` (PDMPlanner:
        ``emergency_decel_mps2``)."""
        return self.params.idm.max_decel_mps2

    def _stop_along_heading(self, start: BicycleState) -> tuple[Rollout, float]:
        """The stopping plan when the route cannot be followed (the ego faces against it,
        leaves the drivable area or makes no progress along it) and its braking command:
        straight on along the ego's heading (:func:`stop_along_heading`) instead of steering
        onto the route, which from a start facing backwards is full lock, at
        ``idm.comfort_decel_mps2`` when that stop keeps the footprint within
        ``DRIVABLE_TOLERANCE_M`` of the drivable area (or no farther out than it is now) or the
        ego is already wholly off the area (every corner); otherwise (the ego still on it, e.g. a road's end
        ahead, or already overrunning it while braking) at the gentlest deceleration, up to
        :attr:`_hardest_decel_mps2`, that keeps it so, found from the room before the
        comfortable stop leaves, then in steps of ``BRAKE_DECEL_STEP_MPS2`` (the hardest when
        none does)."""
        comfort = self.params.idm.comfort_decel_mps2
        plan = self._straight_stop(start, comfort)
        boxes = plan.boxes(self.vehicle)
        outside = distance_outside_drivable_m(boxes, self.road_map)[0]
        allowed_m = max(float(outside[0]), DRIVABLE_TOLERANCE_M)
        off = outside > allowed_m
        if not off.any():
            return plan, comfort
        corners = bev_corners(np, boxes[0, :1]).reshape(-1, 2)
        if np.min(self.road_map.distance_outside_drivable_m(corners)) > DRIVABLE_TOLERANCE_M:
            return plan, comfort  # the ego is wholly off the area already: no hard braking
        hardest = max(self._hardest_decel_mps2, comfort)
        # the constant deceleration that stops within the travel before the first step off
        xy = plan.states[0, :, :2]
        travel_m = np.concatenate(([0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))))
        room_m = float(travel_m[int(np.argmax(off)) - 1])
        speed = max(float(start.speed_mps[0]), 0.0)
        decel = hardest if room_m <= 0.0 else min(max(speed**2 / (2 * room_m), comfort), hardest)
        while True:
            plan = self._straight_stop(start, decel)
            overrun_m = distance_outside_drivable_m(plan.boxes(self.vehicle), self.road_map)
            if decel >= hardest or float(np.max(overrun_m)) <= allowed_m:
                return plan, decel
            decel = min(decel + BRAKE_DECEL_STEP_MPS2, hardest)

    def _straight_stop(self, start: BicycleState, decel_mps2: float) -> Rollout:
        """:func:`stop_along_heading` at ``decel_mps2`` over the planning horizon."""
        p = self.params
        return stop_along_heading(
            start, self.reference, self._tree, p.n_steps, p.dt_s, self.vehicle, decel_mps2
        )

    def _own_lane_offset_m(self, obs: Observation) -> float | None:
        """The lateral offset from the route's reference path (m, left positive) of the
        centreline of the lane the ego is in, at the ego, when that lane is not one of the
        route's (the route asks for a lane change) and lies at least
        ``OWN_LANE_MIN_OFFSET_M`` from each of ``lateral_offsets_m``; None otherwise (the ego in
        a route lane, or in none)."""
        e = obs.ego
        xy = np.array([[e.x_m, e.y_m]])
        lanes = self.road_map.lanes_at(xy[0], e.yaw_rad)
        if not lanes or any(lane_id in self._route_set for lane_id in lanes):
            return None
        lane = self.road_map.lane(lanes[0])
        along, _ = lane.project(xy)
        centre, _ = interpolate_polyline(lane.centerline_m, np.clip(along, 0.0, lane.length_m))
        _, lateral = fast_project(self.reference, self._tree, centre)
        offset = float(lateral[0])
        if any(abs(offset - o) < OWN_LANE_MIN_OFFSET_M for o in self.params.lateral_offsets_m):
            return None
        return offset

    def _forecast(self, obs: Observation, prediction: str | None = None) -> Forecast:
        """The agents' forecast by ``prediction`` (``params.prediction`` when None), an agent
        driving along its lane towards a light it stops at (red within
        ``light_stop_decel_mps2``, yellow within ``idm.comfort_decel_mps2``) stopped at the
        line (:func:`~drivestack.planning.light_forecast.stop_forecasts_at_lights`)."""
        p = self.params
        if (prediction or p.prediction) == "lane_following":
            forecast = lane_following_forecast(obs.agents, self.road_map, p.horizon_s, p.dt_s)
        else:  # (PDMParams checks)
            forecast = constant_velocity_forecast(obs.agents, p.horizon_s, p.dt_s)
        return stop_forecasts_at_lights(
            forecast, obs.agents, self.road_map, obs.traffic_lights,
            comfort_decel_mps2=p.idm.comfort_decel_mps2, stop_decel_mps2=p.light_stop_decel_mps2,
            max_decel_mps2=self._lights.max_decel_mps2, stop_gap_m=p.idm.min_gap_m,
            chain_stops=self._chain_stops,
        )  # fmt: skip

    def _trajectory(self, obs: Observation, result: Rollout, index: int) -> Trajectory:
        n = result.states.shape[1]
        t = obs.timestamp_ns + np.round(np.arange(n) * self.params.dt_s * 1e9).astype(np.int64)
        x, y, yaw, v, a, steer = (
            result.field(f)[index]
            for f in ("x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2", "steering_rad")
        )
        return Trajectory(
            t, x, y, yaw, v, a, np.tan(steer) / self.vehicle.wheelbase_m, obs.ego.frame
        )


class PDMPlanner(_RolloutPlanner):
    """Proposal-and-score planner in the class of PDM-Closed (the module docstring has its
    steps, its stop reasons and its rule for an agent already overlapping the ego)."""

    name = "pdm"

    def _prepare(self) -> None:
        p = self.params
        # the emergency braking rollout's IDM (plain IDM's defaults), built once: see ``step``
        self._emergency_idm = IDMParams(max_decel_mps2=p.emergency_decel_mps2)
        self._held_offset_m: float | None = None

    def reset(self) -> None:
        super().reset()
        self._held_offset_m = None

    @property
    def _hardest_decel_mps2(self) -> float:
        return self.params.emergency_decel_mps2

    def _braking(self, start: BicycleState, station_m: float, agents: PathAgents) -> Rollout:
        """The emergency stop: IDM at ``emergency_decel_mps2`` with its stop 1 m behind the
        ego (it brakes at once and holds the stop) along the route shifted to the ego's own
        lateral offset (0 within ``OWN_LANE_MIN_OFFSET_M`` of the route's centreline): it keeps
        the lane the ego is in, round a bend too, and never steers towards the route's lane
        (braking along the route itself, a route asking for a lane change kept steering into
        the occupied lane). tuplan_garage's PDM-Closed (``PDMEmergencyBrake._generate_trajectory``)
        brakes straight ahead along the ego's heading instead, but only at ego speeds up to
        its ``max_ego_speed`` (5 m/s), where that stays in the lane; at speed on a bend a
        straight stop leaves it (about 0.9 m at 15 m/s on a 100 m radius)."""
        p = self.params
        lateral = self._lateral_m if abs(self._lateral_m) >= OWN_LANE_MIN_OFFSET_M else 0.0
        return rollout(
            start, self.reference, self._tree, np.full(1, lateral), np.zeros(1), self._profile,
            agents, p.n_steps, p.dt_s, self.vehicle, self._emergency_idm, station_m - 1.0,
            p.entry_lookahead_steps, start_station_m=station_m,
        )  # fmt: skip

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        path = self.reference
        # 1. the ego on the reference path
        start, station = self._start(obs)
        light, sign, light_args = self._line_stops(obs, station)
        # 2. forecast, in the path's Frenet frame
        forecast = self._forecast(obs)
        agents = agents_on_path(path, self._tree, forecast)
        # 3. proposals: offsets x target speeds (fractions of the speed profile)
        offsets = np.repeat(np.asarray(p.lateral_offsets_m), len(p.speed_fractions))
        targets = np.tile(np.asarray(p.speed_fractions), len(p.lateral_offsets_m))
        n_route = len(offsets)  # the route's proposals (own-lane ones may follow, step 4-5)
        # 4.-5. simulate and score
        result, scores = self._simulate(
            start, station, agents, forecast, offsets, targets, light_args
        )
        if not np.any(_unhindered(scores)):
            # no proposal along the route is admissible, keeps its time to collision and is
            # comfortable: where the route asks for a lane change (the ego outside its lanes),
            # add proposals keeping to the ego's own lane, so it waits there for a gap instead
            # of steering into an occupied lane or braking hard behind a car it cuts in behind
            own = self._own_lane_offset_m(obs)
            if own is not None:
                # proposals roll out independently: roll out only the own-lane ones
                own_offsets = np.full(len(p.speed_fractions), own)
                own_targets = np.asarray(p.speed_fractions)
                offsets = np.concatenate((offsets, own_offsets))
                targets = np.concatenate((targets, own_targets))
                result = result.joined(
                    self._rollout(start, station, agents, own_offsets, own_targets, light_args)
                )
                scores = self._score(result, forecast)
        # 6. choose (near-ties to the centred proposal; no swerving out for a small gain:
        # ``hold_offset``), or brake: see ``stop_reason``
        n_score = p.n_score_steps
        best = choose_proposal(scores.total, offsets)
        if best < n_route:  # the own-lane proposals of a lane change are never held up
            route = slice(0, n_route)
            if self._held_offset_m is None:  # none driven yet: the ego's own offset
                held, match = self._lateral_m, HELD_OFFSET_MATCH_M
            else:
                held, match = self._held_offset_m, HELD_PROPOSAL_MATCH_M
            best = hold_offset(
                scores.total[route], offsets[route], best, held, p.offset_switch_margin,
                _unhindered(scores)[route], match_m=match,
            )  # fmt: skip
        reason = stop_reason(scores, result, best, n_score, path, station, float(obs.ego.yaw_rad))
        self._held_offset_m = float(offsets[best]) if reason is None else None
        emergency = reason in EMERGENCY_REASONS
        self.debug = PlanDebug(
            offsets,
            targets,
            scores,
            best if reason is None else -1,
            emergency,
            reason,
            light_stop=light.light_id,
            lights_committed=light.committed,
            sign_stop=sign.sign_id,
        )
        if reason is None:
            return self._trajectory(obs, result, best)
        if emergency:
            decel = p.emergency_decel_mps2
            braking = self._braking(start, station, agents)
        else:
            braking, decel = self._stop_along_heading(start)
        self.debug.brake_decel_mps2 = decel
        return self._trajectory(obs, braking, 0)

    def _simulate(
        self,
        start: BicycleState,
        station_m: float,
        agents: PathAgents,
        forecast: Forecast,
        offsets_m: np.ndarray,
        fractions: np.ndarray,
        light_args: dict,
    ) -> tuple[Rollout, ProposalScores]:
        """Steps 4 and 5: the proposals' rollouts and their scores."""
        result = self._rollout(start, station_m, agents, offsets_m, fractions, light_args)
        return result, self._score(result, forecast)

    def _rollout(
        self,
        start: BicycleState,
        station_m: float,
        agents: PathAgents,
        offsets_m: np.ndarray,
        fractions: np.ndarray,
        light_args: dict,
    ) -> Rollout:
        """Step 4: the rollouts of the proposals ``offsets_m (P,)`` x ``fractions (P,)``."""
        p = self.params
        return rollout(
            start, self.reference, self._tree, offsets_m, fractions, self._profile, agents,
            p.n_steps, p.dt_s, self.vehicle, p.idm, self._stop_station_m,
            p.entry_lookahead_steps, start_station_m=station_m, speed_drops=self._drops,
            **light_args,
        )  # fmt: skip

    def _score(self, result: Rollout, forecast: Forecast) -> ProposalScores:
        """Step 5: the scores of the rollouts ``result``."""
        p = self.params
        return score_rollouts(
            result, forecast, self.reference, self.road_map, self.vehicle, p.dt_s,
            p.n_score_steps,
        )  # fmt: skip


def _unhindered(scores: ProposalScores) -> np.ndarray:
    """``(P,)`` bool: the proposals that avoid collisions, stay on the drivable area, keep
    their time to collision and are comfortable."""
    return (scores.collision > 0) & (scores.drivable > 0) & (scores.ttc > 0) & (scores.comfort > 0)


def choose_proposal(
    total: np.ndarray, offsets_m: np.ndarray, tolerance: float = SCORE_TIE_TOLERANCE
) -> int:
    """Index of the proposal to drive: of those scoring within ``tolerance`` of the best
    ``total (P,)``, the one with the smallest ``|offsets_m (P,)|``, then the highest score,
    then the lowest index. Offsets that score the same up to noise never beat the centred
    proposal (on an empty road the ego stays on the route's centreline)."""
    near_best = total >= float(np.max(total)) - tolerance
    order = np.lexsort((-total, np.abs(offsets_m)))  # |offset| first, then the score
    return int(order[near_best[order]][0])


#: proposals within this (m) of the ego's own lateral offset count as at it when no proposal
#: is held yet (:func:`hold_offset`; a held proposal's offset is matched exactly)
HELD_OFFSET_MATCH_M = 0.25
#: a held proposal's offset matches proposals within this (m): the same offset, up to rounding
HELD_PROPOSAL_MATCH_M = 1e-6


def hold_offset(
    total: np.ndarray,
    offsets_m: np.ndarray,
    best: int,
    held_offset_m: float,
    margin: float,
    holdable: np.ndarray,
    *,
    match_m: float = HELD_PROPOSAL_MATCH_M,
    tolerance: float = SCORE_TIE_TOLERANCE,
) -> int:
    """``best`` (the index :func:`choose_proposal` picked from ``total (P,)`` and
    ``offsets_m (P,)``, m, left positive), unless it moves the ego off ``held_offset_m``
    other than towards the centreline (farther out on its side, or across to the other: more
    than ``match_m`` off the held offset and not that much nearer the centreline) and scores
    at most ``margin`` above the proposal :func:`choose_proposal` picks among the others (at
    the held offset or inside it): then that one, if it is as clean as ``best`` (``holdable
    (P,)`` bool: the proposals the hold may keep, e.g. those that avoid collisions, stay on
    the drivable area, keep their time to collision and are comfortable; a hindered ``best``
    may give way to any of them, a clean one only to a clean one) and admissible (total above
    0). Moving towards the centreline is never held up."""
    at_held = np.abs(offsets_m - held_offset_m) <= match_m
    inward = np.abs(offsets_m) < abs(held_offset_m) - match_m
    free = at_held | inward
    if free[best]:
        return best
    candidates = np.flatnonzero(free & (holdable | ~holdable[best]))
    if len(candidates) == 0:
        return best
    kept = int(candidates[choose_proposal(total[candidates], offsets_m[candidates], tolerance)])
    if total[kept] > 0.0 and total[best] - total[kept] <= margin:
        return kept
    return best


def stop_reason(
    scores: ProposalScores,
    result: Rollout,
    best: int,
    n_score: int,
    path: ReferencePath,
    station_m: float,
    yaw_rad: float,
) -> str | None:
    """Why PDM brakes instead of driving proposal ``best``, or None (see ``STOP_REASONS``).

    In order: every proposal collides; none both avoids collisions and stays on the drivable
    area while some collide (each total is 0: the best would hit an agent or leave the road);
    the ego faces against the route; every proposal leaves the drivable area (none collides:
    e.g. the ego is off the road); the best proposal drives without progress along the route.
    """
    collision_free = scores.collision > 0
    admissible = bool(np.any(collision_free & (scores.drivable > 0)))
    if not np.any(collision_free):
        return "every proposal collides"
    if not admissible and not np.all(collision_free):
        return "no collision-free proposal stays on the drivable area"
    if faces_against_route(path, station_m, yaw_rad):
        return "facing against the route"
    if not admissible:
        return "no proposal stays on the drivable area"
    if drives_without_progress(result, best, n_score):
        return "no progress along the route"
    return None


def faces_against_route(path: ReferencePath, station_m: float, yaw_rad: float) -> bool:
    """Is the heading ``yaw_rad`` more than 90 degrees off the route's direction at
    ``station_m`` (the ego faces the wrong way along it)?"""
    _, heading = path.pose_at(np.array([station_m]))
    return math.cos(yaw_rad - float(heading[0])) < 0.0


def drives_without_progress(result: Rollout, index: int, n_steps: int) -> bool:
    """Does proposal ``index`` travel more than ``NO_PROGRESS_TRAVEL_M`` over its first
    ``n_steps`` while its station along the route does not grow (it drives away from or
    across the route)?"""
    xy = result.states[index, : n_steps + 1, :2]
    travelled_m = float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))
    progress_m = float(result.station_m[index, n_steps] - result.station_m[index, 0])
    return travelled_m > NO_PROGRESS_TRAVEL_M and progress_m <= 0.0


class IDMPlanner(_RolloutPlanner):
    """Baseline: follow the route centreline with IDM behind the agent now in the lane.

    Only agents already in the ego's lane count (nuPlan's IDM rule): an agent's lateral
    offset from the route is frozen at its value now, so an agent crossing the lane (a
    pedestrian stepping off the kerb, a car crossing at a junction) is ignored until it is in
    the lane, and then often too late to stop for: the ego may hit it. Use
    :class:`PDMPlanner` where agents cross.

    A route asking for a lane change (the ego in a lane that is not the route's): the plan
    along the route is checked against the constant-velocity forecast of the agents beside
    the ego, in or towards the route's lane, whatever their bearing
    (:meth:`_lane_change_blocked`: an overlap within ``score_horizon_s``, the ego lengthened by
    ``idm.min_gap_m`` at both ends); when it overlaps one, or brakes harder than
    ``idm.comfort_decel_mps2`` where keeping to the ego's own lane would not, the ego follows
    its own lane's centreline instead (``debug.offsets_m``) and changes lane once the gap is
    there. A route whose first step is a lane change from the ego's lane is put off by the
    same two rules before it begins (:meth:`_RolloutPlanner._place_lane_change`, as PDM's).

    It brakes to a stop at ``idm.comfort_decel_mps2`` straight on along its heading and holds
    it (``debug.stop_reason``, ``debug.chosen = -1``) with two of PDMPlanner's own checks
    (:func:`stop_reason`): when the ego faces against the route (:func:`faces_against_route`:
    "facing against the route"), and when its plan leaves the drivable area within
    ``score_horizon_s`` (:func:`~drivestack.planning.scoring.stays_on_drivable_area`, e.g. the
    ego is off the route: "no proposal stays on the drivable area"), braking harder, up to
    ``idm.max_decel_mps2``, where the comfortable stop would take the ego, still on the
    drivable area, off it (as PDMPlanner). It does not turn round nor drive back to the road. It has no curvature speed limit beyond the route's speed profile.

    Of :class:`PDMParams` it reads ``horizon_s``, ``dt_s``, ``score_horizon_s`` (the drivable
    area check), ``stop_margin_m``, ``light_stop_decel_mps2`` and ``unknown_light`` (it stops
    for traffic lights as PDMPlanner does), ``stop_sign_dwell_s``
    (it stops at stop signs as PDMPlanner does, then goes without looking), ``speed_limit_decel_mps2`` and ``max_lat_accel_mps2``
    (it slows for a lower speed limit or a bend ahead as PDMPlanner does) and ``idm`` (with ``coolness = 0``: plain IDM); it ignores
    ``prediction`` (agents always move at constant velocity, stopped at the line of a light
    they stop at as PDMPlanner's: ``_forecast``), ``speed_fractions``,
    ``lateral_offsets_m``, ``offset_switch_margin``, ``entry_lookahead_steps`` and
    ``emergency_decel_mps2`` (it neither scores nor brakes beyond IDM's
    ``idm.max_decel_mps2``). An agent already overlapping the ego and not behind it is a
    leader at gap 0: the ego brakes to a stop and does not drive on while it overlaps (the
    rule PDMPlanner follows too, see the module docstring).
    """

    name = "idm"

    def step(self, obs: Observation) -> Trajectory:
        start, station = self._start(obs)
        light, sign, light_args = self._line_stops(obs, station)
        forecast = self._forecast(obs, "constant_velocity")
        moving = agents_on_path(self.reference, self._tree, forecast)
        # as nuPlan's IDM planner: only agents in the lane now count (they keep moving along it)
        now_lateral = np.repeat(moving.lateral_m[:, :1], moving.lateral_m.shape[1], axis=1)
        agents = PathAgents(
            moving.station_m, now_lateral, moving.along_speed_mps, moving.half_length_m,
            moving.half_width_m,
        )  # fmt: skip
        offset = np.zeros(1)
        result = self._follow(start, station, agents, offset, light_args)
        if abs(self._lateral_m) >= OWN_LANE_MIN_OFFSET_M:
            own = self._own_lane_offset_m(obs)
            if own is not None:
                # the own-lane plan only when the route's plan is blocked or brakes hard
                blocked = self._lane_change_blocked(result, forecast, moving, own)
                if blocked or self._brakes_hard(result):
                    keep = self._follow(start, station, agents, np.full(1, own), light_args)
                    if blocked or not self._brakes_hard(keep):
                        offset, result = np.full(1, own), keep  # wait in the own lane
        reason = self._stop_reason(result, station, float(obs.ego.yaw_rad))
        self.debug = PlanDebug(
            offset,
            np.ones(1),
            None,
            0 if reason is None else -1,
            False,
            reason,
            light_stop=light.light_id,
            lights_committed=light.committed,
            sign_stop=sign.sign_id,
        )
        if reason is None:
            return self._trajectory(obs, result, 0)
        braking, self.debug.brake_decel_mps2 = self._stop_along_heading(start)
        return self._trajectory(obs, braking, 0)

    def _follow(
        self,
        start: BicycleState,
        station_m: float,
        agents: PathAgents,
        offset_m: np.ndarray,
        light_args: dict,
    ) -> Rollout:
        """The IDM plan along the route shifted ``offset_m (1,)`` to the left."""
        p = self.params
        return rollout(
            start, self.reference, self._tree, offset_m, np.ones(1), self._profile, agents,
            p.n_steps, p.dt_s, self.vehicle, self._plain_idm, self._stop_station_m,
            entry_lookahead_steps=0, start_station_m=station_m, hold_run_into_agents=True,
            speed_drops=self._drops, **light_args,
        )  # fmt: skip

    def _lane_change_blocked(
        self, result: Rollout, forecast: Forecast, moving: PathAgents, own_m: float
    ) -> bool:
        """Does the plan ``result`` (the route's lane change), lengthened by ``idm.min_gap_m``
        at both ends, overlap within ``score_horizon_s`` the constant-velocity forecast of an
        agent beside the ego, in or
        towards the route's lane (its lateral offset now nearer the route's centreline than
        the ego's own lane's, ``own_m``), whatever its bearing (beside or behind: the plan
        would cut into it)?"""
        beside = np.abs(moving.lateral_m[:, 0] - own_m) > np.abs(moving.lateral_m[:, 0])
        return self._overlaps_beside(result, forecast, beside)

    def _stop_reason(self, result: Rollout, station_m: float, yaw_rad: float) -> str | None:
        """PDMPlanner's stop for facing against the route, and its stop for leaving the
        drivable area applied to the one IDM plan, or None."""
        if faces_against_route(self.reference, station_m, yaw_rad):
            return "facing against the route"
        boxes = result.boxes(self.vehicle, self.params.n_score_steps)
        if not stays_on_drivable_area(boxes, self.road_map)[0]:
            return "no proposal stays on the drivable area"
        return None
