"""PDM-Closed-style planner (Dauner et al. 2023) and the plain IDM baseline.

PDM step, as numbered array steps:
  1. project the ego onto the route's reference path;
  2. forecast the agents (constant velocity by default) over the horizon;
  3. build proposals: lateral offsets x IDM target speeds (fractions of the speed limit);
  4. simulate every proposal with IDM + pure pursuit + the bicycle model (vectorised);
  5. score them with the evaluation's metrics (collision, drivable area, progress, TTC,
     speed limit, comfort) over the scoring horizon;
  6. take the best; if every proposal collides, brake as hard as allowed (emergency stop);
     if the ego faces against the route (more than 90 degrees off its direction) or the best
     proposal drives (more than ``NO_PROGRESS_TRAVEL_M``) without progress along the route,
     brake to a stop at the comfortable deceleration and hold there instead of driving off
     the wrong way (``debug.stop_reason`` says why). Turning round is left to the driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial import cKDTree

from drivestack.planning.idm import IDMParams
from drivestack.planning.proposals import PathAgents, Rollout, agents_on_path, fast_project, rollout
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.scoring import ProposalScores, score_rollouts
from drivestack.prediction.forecast import (
    Forecast,
    constant_velocity_forecast,
    lane_following_forecast,
)
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.sim.world import Observation
from drivestack.structures.road_map import RoadMap
from drivestack.structures.trajectory import Trajectory


@dataclass(frozen=True)
class PDMParams:
    horizon_s: float = 8.0
    dt_s: float = 0.1
    score_horizon_s: float = 4.0
    speed_fractions: tuple[float, ...] = (1.0, 0.8, 0.6, 0.4, 0.2)
    lateral_offsets_m: tuple[float, ...] = (0.0, 1.0, -1.0)
    idm: IDMParams = field(default_factory=lambda: IDMParams(coolness=0.99))  # ACC model
    entry_lookahead_steps: int = 10
    emergency_decel_mps2: float = 9.0
    prediction: str = "constant_velocity"  # or "lane_following"
    stop_margin_m: float = 2.0  # stop this far before the end of the route

    def __post_init__(self) -> None:
        """``ValueError`` naming the parameter and its value for settings the planner
        cannot run with."""
        for name in ("dt_s", "horizon_s", "score_horizon_s", "emergency_decel_mps2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ValueError(f"PDMParams.{name} must be a finite number > 0, got {value!r}")
        for name in ("horizon_s", "score_horizon_s"):
            steps_whole(getattr(self, name), self.dt_s, f"PDMParams.{name}")
        if self.score_horizon_s > self.horizon_s:
            raise ValueError(
                f"PDMParams.score_horizon_s must be at most horizon_s = {self.horizon_s!r}, "
                f"got {self.score_horizon_s!r}"
            )
        for name in ("speed_fractions", "lateral_offsets_m"):
            values = getattr(self, name)
            if len(values) == 0 or not all(math.isfinite(v) for v in values):
                raise ValueError(
                    f"PDMParams.{name} must be a non-empty tuple of finite numbers, got {values!r}"
                )
        if any(v < 0.0 for v in self.speed_fractions):
            raise ValueError(
                f"PDMParams.speed_fractions must be >= 0, got {self.speed_fractions!r}"
            )
        if self.prediction not in PREDICTIONS:
            raise ValueError(
                f"PDMParams.prediction must be one of {sorted(PREDICTIONS)}, "
                f"got {self.prediction!r}"
            )
        if self.entry_lookahead_steps < 0:
            raise ValueError(
                f"PDMParams.entry_lookahead_steps must be >= 0, got {self.entry_lookahead_steps!r}"
            )
        if not (math.isfinite(self.stop_margin_m) and self.stop_margin_m >= 0.0):
            raise ValueError(
                f"PDMParams.stop_margin_m must be a finite number >= 0, got {self.stop_margin_m!r}"
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
    # why the plan is the braking one instead of a proposal: None, "every proposal collides",
    # "facing against the route" (the ego heads more than 90 deg off the route's direction)
    # or "no progress along the route" (the best proposal drives without progressing)
    stop_reason: str | None = None


class _RolloutPlanner:
    """Shared parts: the reference path, the forecast and turning a rollout into a Trajectory."""

    name = "base"

    def __init__(
        self,
        road_map: RoadMap,
        route_lanes: list[str],
        vehicle: VehicleParams | None = None,
        params: PDMParams | None = None,
    ) -> None:
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

    def reset(self) -> None:
        self.debug = None

    def step(self, obs: Observation) -> Trajectory:
        raise NotImplementedError

    def _start(self, obs: Observation) -> tuple[BicycleState, float]:
        """The ego as a bicycle state and its station on the reference path (``ValueError``
        when the observation is not in the map's frame)."""
        e = obs.ego
        if e.frame != self.road_map.frame:
            raise ValueError(
                f"the observation is in frame {e.frame!r}, the map in {self.road_map.frame!r}: "
                "plan with the ego and agents in the map frame"
            )
        start = BicycleState.of(
            e.x_m, e.y_m, e.yaw_rad, e.speed_mps, e.acceleration_mps2, e.steering_rad
        )
        s0, _ = fast_project(self.reference, self._tree, np.array([[e.x_m, e.y_m]]))
        return start, float(s0[0])

    @property
    def _stop_station_m(self) -> float:
        """Stop before the end of the route."""
        return self.reference.length_m - self.params.stop_margin_m

    def _forecast(self, obs: Observation) -> Forecast:
        p = self.params
        if p.prediction == "lane_following":
            return lane_following_forecast(obs.agents, self.road_map, p.horizon_s, p.dt_s)
        return constant_velocity_forecast(obs.agents, p.horizon_s, p.dt_s)  # (PDMParams checks)

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
    """Proposal-and-score planner in the class of PDM-Closed."""

    name = "pdm"

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        n_steps = p.n_steps
        path, tree, profile = self.reference, self._tree, self._profile
        # 1. the ego on the reference path
        start, station = self._start(obs)
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
        )  # fmt: skip
        # 5. score
        n_score = p.n_score_steps
        scores = score_rollouts(
            result, forecast, path, self.road_map, self.vehicle, p.dt_s, n_score
        )
        # 6. choose; brake when every proposal collides (as hard as allowed), when the ego
        #    faces against the route or when the best proposal drives without progress
        best = int(np.argmax(scores.total))
        reason = None
        if not np.any(scores.collision > 0):
            reason = "every proposal collides"
        elif faces_against_route(path, station, float(obs.ego.yaw_rad)):
            reason = "facing against the route"
        elif drives_without_progress(result, best, n_score):
            reason = "no progress along the route"
        if reason is None:
            self.debug = PlanDebug(offsets, targets, scores, best, False)
            return self._trajectory(obs, result, best)
        emergency = reason == "every proposal collides"
        decel = p.emergency_decel_mps2 if emergency else p.idm.comfort_decel_mps2
        braking = rollout(
            start, path, tree, np.zeros(1), np.zeros(1), profile, agents, n_steps, p.dt_s,
            self.vehicle, IDMParams(max_decel_mps2=decel), station - 1.0, p.entry_lookahead_steps,
            start_station_m=station,
        )  # fmt: skip
        self.debug = PlanDebug(offsets, targets, scores, -1, emergency, reason)
        return self._trajectory(obs, braking, 0)


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
    """Baseline: follow the route centreline with IDM behind the agent now in the lane."""

    name = "idm"

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        n_steps = p.n_steps
        start, station = self._start(obs)
        forecast = constant_velocity_forecast(obs.agents, p.horizon_s, p.dt_s)
        moving = agents_on_path(self.reference, self._tree, forecast)
        # as nuPlan's IDM planner: only agents in the lane now count (they keep moving along it)
        now_lateral = np.repeat(moving.lateral_m[:, :1], moving.lateral_m.shape[1], axis=1)
        agents = PathAgents(
            moving.station_m, now_lateral, moving.along_speed_mps, moving.half_length_m,
            moving.half_width_m,
        )  # fmt: skip
        result = rollout(
            start, self.reference, self._tree, np.zeros(1), np.ones(1), self._profile, agents,
            n_steps, p.dt_s, self.vehicle, replace(p.idm, coolness=0.0), self._stop_station_m, entry_lookahead_steps=0,
            start_station_m=station, hold_run_into_agents=True,
        )  # fmt: skip
        self.debug = PlanDebug(np.zeros(1), np.ones(1), None, 0, False)
        return self._trajectory(obs, result, 0)
