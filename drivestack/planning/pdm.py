"""PDM-Closed-style planner (Dauner et al. 2023) and the plain IDM baseline.

PDM step, as numbered array steps:
  1. project the ego onto the route's reference path;
  2. forecast the agents (constant velocity by default) over the horizon;
  3. build proposals: lateral offsets x IDM target speeds (fractions of the speed limit);
  4. simulate every proposal with IDM + pure pursuit + the bicycle model (vectorised);
  5. score them with the evaluation's metrics (collision, drivable area, progress, TTC,
     speed limit, comfort) over the scoring horizon;
  6. take the best; if every proposal collides, brake as hard as allowed (emergency stop).
"""

from __future__ import annotations

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


@dataclass
class PlanDebug:
    """What the last step looked at (for tests and logs)."""

    offsets_m: np.ndarray
    speed_fraction: np.ndarray
    scores: ProposalScores | None
    chosen: int
    emergency: bool


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
        self.road_map = road_map
        self.route_lanes = list(route_lanes)
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
        """The ego as a bicycle state and its station on the reference path."""
        e = obs.ego
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
        return constant_velocity_forecast(obs.agents, p.horizon_s, p.dt_s)

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
        n_steps = round(p.horizon_s / p.dt_s)
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
        n_score = round(p.score_horizon_s / p.dt_s)
        scores = score_rollouts(
            result, forecast, path, self.road_map, self.vehicle, p.dt_s, n_score
        )
        # 6. choose, or brake as hard as allowed when every proposal collides
        if not np.any(scores.collision > 0):
            brake = IDMParams(max_decel_mps2=p.emergency_decel_mps2)
            braking = rollout(
                start, path, tree, np.zeros(1), np.zeros(1), profile, agents, n_steps, p.dt_s,
                self.vehicle, brake, station - 1.0, p.entry_lookahead_steps, start_station_m=station,
            )  # fmt: skip
            self.debug = PlanDebug(offsets, targets, scores, -1, True)
            return self._trajectory(obs, braking, 0)
        best = int(np.argmax(scores.total))
        self.debug = PlanDebug(offsets, targets, scores, best, False)
        return self._trajectory(obs, result, best)


class IDMPlanner(_RolloutPlanner):
    """Baseline: follow the route centreline with IDM behind the agent now in the lane."""

    name = "idm"

    def step(self, obs: Observation) -> Trajectory:
        p = self.params
        n_steps = round(p.horizon_s / p.dt_s)
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
            start_station_m=station,
        )  # fmt: skip
        self.debug = PlanDebug(np.zeros(1), np.ones(1), None, 0, False)
        return self._trajectory(obs, result, 0)
