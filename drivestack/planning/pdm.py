"""PDM-Closed-style planner (Dauner et al. 2023) and the plain IDM baseline.

PDM step, as numbered array steps:
  1. project the ego onto the route's reference path, and find the stop line of a traffic
     light it must stop at (:mod:`~drivestack.planning.traffic_lights`: red or yellow within
     the allowed deceleration, ``debug.light_stop``);
  2. forecast the agents (constant velocity by default) over the horizon, a car driving
     along its lane towards a light it stops at stopped at the line
     (:mod:`~drivestack.planning.light_forecast`);
  3. build proposals: lateral offsets x IDM target speeds (fractions of the speed limit);
  4. simulate every proposal with IDM + pure pursuit + the bicycle model (vectorised), the
     route's end a stationary leader and, when that stop line comes first, a stop before it
     at the light decision's constant deceleration;
  5. score them with the evaluation's metrics (collision, drivable area, progress, TTC,
     speed limit, comfort) over the scoring horizon;
  6. take the best; totals within ``SCORE_TIE_TOLERANCE`` of it tie, and a tie goes to the
     smallest lateral offset (:func:`choose_proposal`: with nothing in the way the ego keeps
     to the route's centreline). Brake instead (:func:`stop_reason`, ``debug.stop_reason``):
     as hard as allowed (``emergency_decel_mps2``, ``debug.emergency``) when every proposal
     collides, or when no proposal both avoids collisions and stays on the drivable area (its
     total, and so every total, is 0: no proposal is admissible, and proposal 0 is never taken
     by default); at the comfortable deceleration, holding the stop, when every proposal
     leaves the drivable area without a collision (e.g. the ego is off the road), when the
     ego faces against the route (more than 90 degrees off its direction) or when the best
     proposal drives (more than ``NO_PROGRESS_TRAVEL_M``) without progress along the route.
     Those last three stops go straight on along the ego's heading (wheels straightened at
     the steering-rate limit; :func:`~drivestack.planning.proposals.stop_along_heading`),
     the two emergency stops along the route. Turning round or rejoining the road is left to
     the driver.

An agent whose footprint already overlaps the ego's at the observation (k = 0: a collision in
progress, or a ghost track of the ego's own returns) is treated alike by both planners: unless
it is behind the ego (its centre more than 150 degrees off the ego's heading, nuPlan's rule, so
it is running into the ego), it is an obstacle the ego is in contact with: the ego brakes to
a stop and does not drive on while it overlaps (from speed the ego may pass through it while
braking; once it is behind, it no longer counts). PDM counts every proposal that moves while
still overlapping it as colliding, whatever the bearing at later steps (an agent driven
through ends up behind the ego's centre), so it brakes as hard as allowed with
``stop_reason = "every proposal collides"``; the IDM baseline holds it as a leader at gap 0
(:func:`~drivestack.planning.proposals.rollout`, ``hold_run_into_agents``) and brakes within
``idm.max_decel_mps2``.

Both planners stop for the lights of the route's lanes as ``Observation.traffic_lights``
reports them (the rule: :mod:`~drivestack.planning.traffic_lights`; a red light is stopped
for when the constant deceleration to the stop point ``idm.min_gap_m`` before the line is at
most ``PDMParams.light_stop_decel_mps2``, a yellow one when it is at most
``idm.comfort_decel_mps2``; a red needing more is driven through; an unknown one as
``PDMParams.unknown_light`` says: go, or as yellow). Every proposal's rollout
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree

from drivestack.kernels._common import magnitude_limit
from drivestack.planning.idm import ACCParams, IDMParams
from drivestack.planning.light_forecast import stop_forecasts_at_lights
from drivestack.planning.proposals import (
    PathAgents,
    Rollout,
    agents_on_path,
    fast_project,
    rollout,
    stop_along_heading,
)
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.scoring import ProposalScores, score_rollouts, stays_on_drivable_area
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
from drivestack.structures.road_map import RoadMap
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
# PDMPlanner's stop reasons (``PlanDebug.stop_reason``); the first two brake as hard as allowed
# (``emergency_decel_mps2``, ``PlanDebug.emergency``) along the route, the others at
# ``idm.comfort_decel_mps2`` straight on along the ego's heading
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


class _RolloutPlanner:
    """Shared parts: the reference path, the forecast and turning a rollout into a Trajectory."""

    name = "base"

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
        if not self.route_lanes:
            raise ValueError(
                f"route_lanes: the route needs at least one lane id, got {route_lanes!r}"
            )
        self.road_map = road_map
        self.vehicle = vehicle or VehicleParams()
        self.params = params or PDMParams()
        self.reference = ReferencePath.from_route(road_map, self.route_lanes)
        self._tree = cKDTree(self.reference.xy_m)
        self._profile = self.reference.speed_profile()
        self.debug: PlanDebug | None = None
        self._lights = LightStopRule(
            route_light_stops(road_map, self.route_lanes, self.reference),
            self.vehicle.front_offset_m,
            comfort_decel_mps2=self.params.idm.comfort_decel_mps2,
            stop_decel_mps2=self.params.light_stop_decel_mps2,
            max_decel_mps2=max(self.params.light_stop_decel_mps2, self.params.idm.max_decel_mps2),
            stop_gap_m=self.params.idm.min_gap_m,
            unknown_light=self.params.unknown_light,
        )
        # the agents' lane chains' light stops, found as chains come up (``_forecast``)
        self._chain_stops: dict[tuple[str, ...], tuple[RouteLightStop, ...]] = {}
        self._prepare()

    def _prepare(self) -> None:
        """What a planner derives once from its settings (none here)."""

    def reset(self) -> None:
        self.debug = None
        self._lights.reset()

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
        s0, _ = fast_project(self.reference, self._tree, np.array([[e.x_m, e.y_m]]))
        return start, float(s0[0])

    @property
    def _stop_station_m(self) -> float:
        """Stop before the end of the route."""
        return self.reference.length_m - self.params.stop_margin_m

    def _light_stop(
        self, obs: Observation, station_m: float
    ) -> tuple[LightDecision, float | None, float | None]:
        """This step's traffic-light decision and the rollout's light stop, station and
        deceleration: when the line of the light to stop at comes before the route end's stop
        (:attr:`_stop_station_m`), every proposal stops there at the decision's constant
        deceleration (:func:`rollout`'s ``light_stop_station_m`` and ``light_stop_decel_mps2``;
        ``None`` otherwise: the plans are as without lights)."""
        light = self._lights.step(obs.traffic_lights, station_m, float(obs.ego.speed_mps))
        if light.station_m is not None and light.station_m < self._stop_station_m:
            return light, light.station_m, light.decel_mps2
        return light, None, None

    def _braking(
        self,
        start: BicycleState,
        station_m: float,
        agents: PathAgents,
        idm: IDMParams,
        entry_lookahead_steps: int,
    ) -> Rollout:
        """The stopping plan along the route: the centred proposal with its stop 1 m behind
        the ego (it brakes at once, within ``idm.max_decel_mps2``, and holds the stop)."""
        p = self.params
        return rollout(
            start, self.reference, self._tree, np.zeros(1), np.zeros(1), self._profile, agents,
            p.n_steps, p.dt_s, self.vehicle, idm, station_m - 1.0, entry_lookahead_steps,
            start_station_m=station_m,
        )  # fmt: skip

    def _stop_along_heading(self, start: BicycleState) -> Rollout:
        """The stopping plan when the route cannot be followed (the ego faces against it,
        leaves the drivable area or makes no progress along it): braking at
        ``idm.comfort_decel_mps2`` straight on along the ego's heading
        (:func:`stop_along_heading`) instead of steering onto the route, which from a start
        facing backwards is full lock."""
        p = self.params
        return stop_along_heading(
            start, self.reference, self._tree, p.n_steps, p.dt_s, self.vehicle,
            p.idm.comfort_decel_mps2,
        )  # fmt: skip

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

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        n_steps = p.n_steps
        path, tree, profile = self.reference, self._tree, self._profile
        # 1. the ego on the reference path
        start, station = self._start(obs)
        light, light_m, light_decel = self._light_stop(obs, station)
        # 2. forecast, in the path's Frenet frame
        forecast = self._forecast(obs)
        agents = agents_on_path(path, tree, forecast)
        # 3. proposals: offsets x target speeds (fractions of the speed profile)
        offsets = np.repeat(np.asarray(p.lateral_offsets_m), len(p.speed_fractions))
        targets = np.tile(np.asarray(p.speed_fractions), len(p.lateral_offsets_m))
        # 4. simulate
        result = rollout(
            start, path, tree, offsets, targets, profile, agents, n_steps, p.dt_s, self.vehicle,
            p.idm, self._stop_station_m, p.entry_lookahead_steps, start_station_m=station,
            light_stop_station_m=light_m, light_stop_decel_mps2=light_decel,
        )  # fmt: skip
        # 5. score
        n_score = p.n_score_steps
        scores = score_rollouts(
            result, forecast, path, self.road_map, self.vehicle, p.dt_s, n_score
        )
        # 6. choose (near-ties to the centred proposal), or brake: see ``stop_reason``
        best = choose_proposal(scores.total, offsets)
        reason = stop_reason(scores, result, best, n_score, path, station, float(obs.ego.yaw_rad))
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
        )
        if reason is None:
            return self._trajectory(obs, result, best)
        braking = (
            self._braking(start, station, agents, self._emergency_idm, p.entry_lookahead_steps)
            if emergency
            else self._stop_along_heading(start)
        )
        return self._trajectory(obs, braking, 0)


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

    It brakes to a stop at ``idm.comfort_decel_mps2`` straight on along its heading and holds
    it (``debug.stop_reason``, ``debug.chosen = -1``) with two of PDMPlanner's own checks
    (:func:`stop_reason`): when the ego faces against the route (:func:`faces_against_route`:
    "facing against the route"), and when its plan leaves the drivable area within
    ``score_horizon_s`` (:func:`~drivestack.planning.scoring.stays_on_drivable_area`, e.g. the
    ego is off the route: "no proposal stays on the drivable area"). It does not turn round
    nor drive back to the road. It has no curvature speed limit beyond the route's speed profile.

    Of :class:`PDMParams` it reads ``horizon_s``, ``dt_s``, ``score_horizon_s`` (the drivable
    area check), ``stop_margin_m``, ``light_stop_decel_mps2`` and ``unknown_light`` (it stops
    for traffic lights as PDMPlanner does) and ``idm`` (with ``coolness = 0``: plain IDM); it ignores
    ``prediction`` (agents always move at constant velocity, stopped at the line of a light
    they stop at as PDMPlanner's: ``_forecast``), ``speed_fractions``,
    ``lateral_offsets_m``, ``entry_lookahead_steps`` and ``emergency_decel_mps2`` (it neither
    scores nor brakes beyond IDM's ``idm.max_decel_mps2``). An agent already overlapping the
    ego and not behind it is a leader at gap 0: the ego brakes to a stop and does not drive on
    while it overlaps (the rule PDMPlanner follows too, see the module docstring).
    """

    name = "idm"

    def _prepare(self) -> None:
        self._plain_idm = replace(self.params.idm, coolness=0.0)  # built once: see ``step``

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        n_steps = p.n_steps
        start, station = self._start(obs)
        light, light_m, light_decel = self._light_stop(obs, station)
        forecast = self._forecast(obs, "constant_velocity")
        moving = agents_on_path(self.reference, self._tree, forecast)
        # as nuPlan's IDM planner: only agents in the lane now count (they keep moving along it)
        now_lateral = np.repeat(moving.lateral_m[:, :1], moving.lateral_m.shape[1], axis=1)
        agents = PathAgents(
            moving.station_m, now_lateral, moving.along_speed_mps, moving.half_length_m,
            moving.half_width_m,
        )  # fmt: skip
        result = rollout(
            start, self.reference, self._tree, np.zeros(1), np.ones(1), self._profile, agents,
            n_steps, p.dt_s, self.vehicle, self._plain_idm, self._stop_station_m, entry_lookahead_steps=0,
            start_station_m=station, hold_run_into_agents=True, light_stop_station_m=light_m,
            light_stop_decel_mps2=light_decel,
        )  # fmt: skip
        reason = self._stop_reason(result, station, float(obs.ego.yaw_rad))
        self.debug = PlanDebug(
            np.zeros(1),
            np.ones(1),
            None,
            0 if reason is None else -1,
            False,
            reason,
            light_stop=light.light_id,
            lights_committed=light.committed,
        )
        if reason is None:
            return self._trajectory(obs, result, 0)
        return self._trajectory(obs, self._stop_along_heading(start), 0)

    def _stop_reason(self, result: Rollout, station_m: float, yaw_rad: float) -> str | None:
        """PDMPlanner's stop for facing against the route, and its stop for leaving the
        drivable area applied to the one IDM plan, or None."""
        if faces_against_route(self.reference, station_m, yaw_rad):
            return "facing against the route"
        boxes = result.boxes(self.vehicle, self.params.n_score_steps)
        if not stays_on_drivable_area(boxes, self.road_map)[0]:
            return "no proposal stays on the drivable area"
        return None
