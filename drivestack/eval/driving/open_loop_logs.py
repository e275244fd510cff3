"""Open-loop runs of planners on recorded drives (nuPlan's challenge 1 on Argoverse 2 logs).

A recorded drive qualifies when it holds the human's own drive to compare with: an Argoverse
2 sensor log does (its ego poses at every annotated sweep). A CommonRoad scenario does not: it
gives the ego's initial state and goal (a planning problem), not a recorded ego drive.

For one AV2 log (:func:`evaluate_av2_log`):

1. **Scenario**: the log's closed-loop scenario (``map: {kind: av2, log: ...}``, the ego
   from the log) is built by :func:`drivestack.sim.build.build_scenario` over the whole
   recorded span, so the map and the route (the driven lanes, extended by successors) are
   the ones ``drivestack sim`` uses. The agents are the log's tracks read with
   ``annotated_only`` (:func:`drivestack.sim.av2_log.track_agents`), not closed loop's: as
   in nuPlan's open loop, the planner sees only the boxes annotated at that moment.
2. **Instants**: every ``params.sample_interval_s`` (1 s) from the log's first annotated
   sweep, as long as the recording covers at least the shortest horizon after it (to half a
   sweep interval, :func:`~drivestack.eval.driving.open_loop.instant_errors`).
3. **Observation** at an instant: the replayed agents present then (boxes and velocities
   over ground in the city frame): exactly the tracks annotated at the sweep nearest the
   instant (at most 50 ms away), each interpolated between its sweeps; no track is held
   before or after it is annotated and nothing about its later rows decides whether it is
   seen (closed loop holds stationary tracks over the whole log instead). The ego comes from
   the recording (:func:`recorded_ego_state`): pose interpolated between sweeps; speed,
   acceleration and yaw rate from backward (causal) differences, each the motion over the
   sweep interval that ends at a sweep (:class:`RecordedMotion`), so the planner is never
   given the pose after the instant through them; the steering angle that yaw rate needs at
   that speed.
4. **Plan**: each planner is built once per log for the scenario's route and stepped once
   per instant. nuPlan builds its planner once per scenario and calls it at every step of the
   log-replayed drive; drivestack's planners keep no state from one step to the next, so
   calling them only at the scored instants gives the same plans. The constant-velocity
   baseline (:class:`ConstantVelocityPlanner`) is the floor nuPlan papers report.
5. **Compare**: :func:`~drivestack.eval.driving.open_loop.instant_errors` against the
   recorded drive (:func:`expert_trajectory`), at the box centre of drivestack's vehicle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drivestack.core.time import seconds_to_ns
from drivestack.eval.driving.open_loop import (
    InstantErrors,
    OpenLoopParams,
    end_tolerance_ns,
    instant_errors,
)
from drivestack.sim.av2_log import Av2LogScenario, read_av2_log
from drivestack.sim.runner import Planner
from drivestack.sim.scenario import EgoConfig, MapConfig, ScenarioConfig
from drivestack.sim.vehicle import VehicleParams
from drivestack.sim.world import Observation, World
from drivestack.structures._checks import check_number
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import RoadMap
from drivestack.structures.trajectory import Trajectory

if TYPE_CHECKING:
    from drivestack.sim.evaluate import PlannerParams

#: The baseline's name in tables and metrics.json.
CONSTANT_VELOCITY = "constant_velocity"
#: Below this speed the recorded ego's steering angle is taken as 0 (yaw rate / speed is noise).
MIN_STEERING_SPEED_MPS = 1.0


class ConstantVelocityPlanner:
    """Planner stage: the ego keeps its current speed and heading for ``horizon_s`` (samples
    every ``dt_s``), a straight line from its rear axle."""

    name = CONSTANT_VELOCITY

    def __init__(self, horizon_s: float = 8.0, dt_s: float = 0.1) -> None:
        from drivestack.prediction.forecast import MAX_FORECAST_STEPS

        finite = math.isfinite(horizon_s) and math.isfinite(dt_s)
        if not (finite and horizon_s > 0 and dt_s > 0):  # (8 / inf = 0 would pass a ratio test)
            raise ValueError(
                f"horizon_s and dt_s must be finite and > 0, got {horizon_s!r}, {dt_s!r}"
            )
        if horizon_s / dt_s > MAX_FORECAST_STEPS:
            raise ValueError(
                f"horizon_s / dt_s must be at most {MAX_FORECAST_STEPS} steps, got {horizon_s!r} "
                f"/ {dt_s!r}"
            )
        self.horizon_s = float(horizon_s)
        self.dt_s = float(dt_s)

    def reset(self) -> None:
        """No state."""

    def step(self, observation: Observation) -> Trajectory:
        e = observation.ego
        t_s = np.arange(round(self.horizon_s / self.dt_s) + 1) * self.dt_s
        distance = e.speed_mps * t_s
        n = len(t_s)
        return Trajectory(
            observation.timestamp_ns + np.round(t_s * 1e9).astype(np.int64),
            e.x_m + distance * math.cos(e.yaw_rad),
            e.y_m + distance * math.sin(e.yaw_rad),
            np.full(n, e.yaw_rad),
            np.full(n, e.speed_mps),
            np.zeros(n),
            np.zeros(n),
            e.frame,
        )


@dataclass(frozen=True)
class RecordedMotion:
    """The recorded ego's motion at the log's sweeps ``time_s (T,)``: rear-axle ``xy_m
    (T, 2)``, unwrapped ``yaw_rad (T,)``, ``speed_mps``, and the time derivatives
    ``acceleration_mps2`` and ``yaw_rate_radps`` (``np.gradient``: central differences
    inside, one-sided at the ends): the expert's drive (:func:`expert_trajectory`).

    The planner's input state (:meth:`at`) uses the ``causal_*`` ``(T,)`` arrays instead,
    derived here from ``time_s``, ``xy_m`` and ``yaw_rad`` by :func:`backward_difference`:
    speed the distance over the sweep interval ending at each sweep, acceleration the
    change of that speed over the interval before, yaw rate the yaw change over the interval
    ending there. A central difference at a sweep reads the pose one sweep (0.1 s) after it.
    The first sweep has no earlier one: it takes the second's speed and yaw rate, and the
    first two sweeps take the third's acceleration (the values there that read later poses).
    """

    time_s: np.ndarray
    xy_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    acceleration_mps2: np.ndarray
    yaw_rate_radps: np.ndarray
    causal_speed_mps: np.ndarray = field(init=False)
    causal_acceleration_mps2: np.ndarray = field(init=False)
    causal_yaw_rate_radps: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.time_s, dtype=float)
        steps = np.hypot(*np.diff(np.asarray(self.xy_m, dtype=float), axis=0).T)
        speed = backward_difference(np.concatenate([[0.0], np.cumsum(steps)]), t)
        object.__setattr__(self, "causal_speed_mps", speed)
        object.__setattr__(self, "causal_acceleration_mps2", backward_difference(speed, t, 2))
        object.__setattr__(self, "causal_yaw_rate_radps", backward_difference(self.yaw_rad, t))

    @classmethod
    def of(cls, log: Av2LogScenario) -> RecordedMotion:
        t = np.asarray(log.time_s, dtype=float)
        yaw = np.unwrap(np.asarray(log.ego_yaw_rad, dtype=float))
        speed = np.asarray(log.ego_speed_mps, dtype=float)
        if len(t) < 2:
            zeros = np.zeros(len(t))
            return cls(t, np.asarray(log.ego_xy_m, dtype=float), yaw, speed, zeros, zeros)
        return cls(
            t,
            np.asarray(log.ego_xy_m, dtype=float),
            yaw,
            speed,
            np.gradient(speed, t),
            np.gradient(yaw, t),
        )

    def at(self, time_s: float) -> tuple[float, float, float, float, float, float]:
        """The planner's input ``(x, y, yaw, speed, acceleration, yaw_rate)`` at ``time_s``
        (speed, acceleration and yaw rate the ``causal_*`` ones), each interpolated linearly
        between sweeps like the pose; ``ValueError`` for a NaN or infinite time."""
        check_number("time_s", time_s)
        t = self.time_s
        x, y = (float(np.interp(time_s, t, self.xy_m[:, k])) for k in range(2))
        rest = (
            self.yaw_rad,
            self.causal_speed_mps,
            self.causal_acceleration_mps2,
            self.causal_yaw_rate_radps,
        )
        yaw, speed, accel, yaw_rate = (float(np.interp(time_s, t, v)) for v in rest)
        return x, y, yaw, speed, accel, yaw_rate


def backward_difference(values: np.ndarray, time_s: np.ndarray, first: int = 1) -> np.ndarray:
    """``(T,)`` backward differences of ``values (T,)`` at strictly increasing ``time_s (T,)``:
    ``(values[i] - values[i - 1]) / (time_s[i] - time_s[i - 1])`` for ``i >= first`` (``first``
    >= 1: the first one whose own inputs are all there, 2 for a difference of differences);
    the samples before ``first`` take the value at ``first``; zeros when ``T <= first``."""
    v = np.asarray(values, dtype=float)
    out = np.zeros(len(v))
    if len(v) <= first:
        return out
    out[1:] = np.diff(v) / np.diff(np.asarray(time_s, dtype=float))
    out[:first] = out[first]
    return out


def steering_for(speed_mps: float, yaw_rate_radps: float, vehicle: VehicleParams) -> float:
    """The front-wheel angle a kinematic bicycle needs for ``yaw_rate_radps`` at
    ``speed_mps``: ``atan(wheelbase * yaw_rate / speed)`` within the vehicle's steering range;
    0 below :data:`MIN_STEERING_SPEED_MPS`; ``ValueError`` for a NaN or infinite speed or
    yaw rate."""
    check_number("speed_mps", speed_mps)
    check_number("yaw_rate_radps", yaw_rate_radps)
    if abs(speed_mps) < MIN_STEERING_SPEED_MPS:
        return 0.0
    angle = math.atan(vehicle.wheelbase_m * yaw_rate_radps / speed_mps)
    return float(np.clip(angle, -vehicle.max_steering_rad, vehicle.max_steering_rad))


def recorded_ego_state(
    motion: RecordedMotion, time_s: float, timestamp_ns: int, vehicle: VehicleParams, frame: str
) -> EgoState:
    """The recorded ego at ``time_s`` as an :class:`EgoState` stamped ``timestamp_ns``: the
    planner's input, :meth:`RecordedMotion.at` (causal speed, acceleration and yaw rate)."""
    x, y, yaw, speed, accel, yaw_rate = motion.at(time_s)
    steering = steering_for(speed, yaw_rate, vehicle)
    return EgoState(timestamp_ns, x, y, yaw, speed, accel, yaw_rate, steering, frame)


def expert_trajectory(motion: RecordedMotion, frame: str) -> Trajectory:
    """The recorded drive as a rear-axle :class:`Trajectory` (0 at the first sweep;
    curvature = yaw rate / speed, 0 below :data:`MIN_STEERING_SPEED_MPS`)."""
    speed = motion.speed_mps
    moving = np.abs(speed) >= MIN_STEERING_SPEED_MPS
    curvature = np.where(moving, motion.yaw_rate_radps / np.where(moving, speed, 1.0), 0.0)
    return Trajectory(
        np.array([seconds_to_ns(t) for t in motion.time_s], dtype=np.int64),
        motion.xy_m[:, 0].copy(),
        motion.xy_m[:, 1].copy(),
        motion.yaw_rad.copy(),
        speed.copy(),
        motion.acceleration_mps2.copy(),
        curvature,
        frame,
    )


def instant_times_s(
    span_s: float, params: OpenLoopParams, end_tolerance_s: float = 0.0
) -> list[float]:
    """The instants ``k * sample_interval_s`` after which the recording (``span_s`` long)
    covers at least the shortest horizon, to ``end_tolerance_s`` (>= 0; the expert's
    :func:`~drivestack.eval.driving.open_loop.end_tolerance_ns`); ``ValueError`` for a NaN or
    infinite span or a tolerance that is not a finite number >= 0."""
    check_number("span_s", span_s)
    check_number("end_tolerance_s", end_tolerance_s, at_least=0.0)
    last = span_s + end_tolerance_s - params.horizons_s[0]
    if last < -1e-9:
        return []
    count = math.floor(last / params.sample_interval_s + 1e-9) + 1
    return [k * params.sample_interval_s for k in range(count)]


@dataclass
class DriveRun:
    """One log's open-loop run: its instants and, per planner, the errors at each instant
    and why it braked (``stop_reasons``: the planner's ``debug.stop_reason`` counts, where it
    has one)."""

    name: str
    log_dir: str
    span_s: float
    route_lanes: list[str]
    instants_s: list[float]
    errors: dict[str, list[InstantErrors]] = field(default_factory=dict)
    stop_reasons: dict[str, dict[str, int]] = field(default_factory=dict)


def av2_scenario_config(log_dir: Path, span_s: float, dt_s: float = 0.1) -> ScenarioConfig:
    """The closed-loop scenario of an AV2 log over its whole recorded span (as
    ``configs/scenarios/av2_*.yaml``, with ``duration_s`` the span rounded down to ``dt_s``)."""
    duration = math.floor(span_s / dt_s + 1e-6) * dt_s
    return ScenarioConfig(
        name=log_dir.name,
        map=MapConfig(kind="av2", log=str(log_dir.resolve())),
        ego=EgoConfig(from_file=True),
        duration_s=round(duration, 9),
        dt_s=dt_s,
        agents_from_file=True,
        source=str(log_dir),
    )


def make_planner(
    name: str,
    road_map: RoadMap,
    route_lanes: list[str],
    vehicle: VehicleParams,
    settings: PlannerParams | None = None,
) -> Planner:
    """A planner by name: ``constant_velocity`` or one of ``drivestack sim``'s
    (:data:`drivestack.sim.evaluate.PLANNERS`) for the map and route, with its block of
    ``settings`` (``--planner-params``; None: the defaults)."""
    from drivestack.sim.evaluate import PLANNERS

    if name == CONSTANT_VELOCITY:
        return ConstantVelocityPlanner()
    if name not in PLANNERS:
        raise ValueError(
            f"unknown planner {name!r}; choose from {sorted([*PLANNERS, CONSTANT_VELOCITY])}"
        )
    if settings is None:
        return PLANNERS[name](road_map, route_lanes, vehicle)
    return PLANNERS[name](road_map, route_lanes, vehicle, settings.planner(name))


def evaluate_av2_log(
    log_dir: str | Path,
    planners: Sequence[str],
    params: OpenLoopParams | None = None,
    settings: PlannerParams | None = None,
) -> DriveRun:
    """Run ``planners`` (names, see :func:`make_planner`) open loop on one AV2 sensor log
    (module docstring) on its closed-loop scenario's map, route and replayed agents;
    ``settings`` (``--planner-params``): the planners' blocks and the ego ``vehicle`` (its
    centre offset places the compared centre; the ``tracker`` block is never read: open-loop
    plans are not driven).

    Raises:
        DataError / ConfigError: the log is malformed or its recorded drive cannot be
            followed on its map (naming the log folder).
        ValueError: as :func:`run_open_loop`.
    """
    from drivestack.sim.build import build_scenario

    log = read_av2_log(log_dir, annotated_only=True)
    config = replace(av2_scenario_config(Path(log_dir), log.span_s), agents_from_file=False)
    built = build_scenario(config)
    w = built.world  # the closed-loop scenario's map, ego and step; the open-loop agents
    vehicle = w.vehicle if settings is None else settings.vehicle
    world = World(w.road_map, w.ego, list(log.agents), vehicle, w.dt_s)
    return run_open_loop(log, built.route_lanes, world, planners, params, settings)


def run_open_loop(
    log: Av2LogScenario,
    route_lanes: list[str],
    world: World,
    planners: Sequence[str],
    params: OpenLoopParams | None = None,
    settings: PlannerParams | None = None,
) -> DriveRun:
    """Run ``planners`` open loop on the recorded drive of ``log``: at each instant
    (:func:`instant_times_s`) the agents are where ``world`` (holding the log's replayed
    agents, on ``world.road_map``; reset here) places them, the ego is the recorded one, and
    each planner (built for ``world.road_map`` and ``route_lanes``, with its block of
    ``settings``) plans once.

    Raises:
        ValueError: ``params.sample_interval_s`` is not a whole number of ``world.dt_s``, an
            unknown planner, or a plan that does not cover the compared samples.
    """
    params = params or OpenLoopParams()
    ticks_per_sample = params.sample_interval_s / world.dt_s
    if abs(ticks_per_sample - round(ticks_per_sample)) > 1e-9:
        raise ValueError(
            f"sample_interval_s = {params.sample_interval_s} s is not a whole number of the "
            f"scenario's {world.dt_s} s ticks"
        )
    frame = world.road_map.frame
    motion = RecordedMotion.of(log)
    expert = expert_trajectory(motion, frame)
    stages = {
        name: make_planner(name, world.road_map, route_lanes, world.vehicle, settings)
        for name in planners
    }
    for stage in stages.values():
        stage.reset()
    run = DriveRun(
        log.log_dir.name,
        str(log.log_dir),
        log.span_s,
        list(route_lanes),
        instant_times_s(log.span_s, params, end_tolerance_ns(expert) / 1e9),
    )
    run.errors = {name: [] for name in stages}
    run.stop_reasons = {name: {} for name in stages}
    world.reset()
    for time_s in run.instants_s:
        target_tick = round(time_s / world.dt_s)
        while world.tick < target_tick:  # the replayed traffic; the world's own ego is unused
            world.step(0.0, 0.0)
        seen = world.observe()
        ego = recorded_ego_state(motion, time_s, seen.timestamp_ns, world.vehicle, frame)
        obs = Observation(seen.timestamp_ns, ego, seen.agents, seen.agent_ids)
        for name, stage in stages.items():
            plan = stage.step(obs)
            run.errors[name].append(
                instant_errors(plan, expert, time_s, params, world.vehicle.center_offset_m)
            )
            reason = getattr(getattr(stage, "debug", None), "stop_reason", None)
            if reason is not None:
                counts = run.stop_reasons[name]
                counts[reason] = counts.get(reason, 0) + 1
    return run
