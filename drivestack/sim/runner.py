"""Closed-loop runner: a plain loop (observe -> plan -> track -> step) that records everything.

Metrics read the recorded :class:`SimHistory` afterwards (as in nuPlan's simulation runner).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from drivestack.pipeline import check_stage_output
from drivestack.sim.history_arrays import ADDED_HISTORY_ARRAYS as ADDED_HISTORY_ARRAYS
from drivestack.sim.history_arrays import HISTORY_ARRAYS as HISTORY_ARRAYS
from drivestack.sim.swept_collision import ego_agent_collisions as ego_agent_collisions
from drivestack.sim.swept_collision import swept_ego_agent_collisions
from drivestack.sim.vehicle import VehicleParams
from drivestack.sim.world import Observation, World, light_codes_at
from drivestack.structures.trajectory import Trajectory


@runtime_checkable
class Planner(Protocol):
    """Planner stage: ``reset()`` before a run, then ``step(observation) -> Trajectory``
    (rear-axle states, world frame) every tick; ``name`` labels its results."""

    name: str

    def reset(self) -> None: ...

    def step(self, observation: Observation) -> Trajectory: ...


class Tracker(Protocol):
    def reset(self) -> None: ...

    def step(
        self, state, plan: Trajectory, time_ns: int, dt_s: float = 0.1
    ) -> tuple[float, float]: ...


StepCallback = Callable[[int, World, Trajectory], None]


@dataclass(frozen=True)
class SimHistory:
    """Everything of one run at T ticks (tick 0 = the initial state).

    Ego (rear axle): ``ego_x_m, ego_y_m, ego_yaw_rad, ego_speed_mps, ego_accel_mps2,
    ego_steering_rad`` ``(T,)`` and footprints ``ego_boxes (T, 7)``. Agents: ``agent_boxes
    (T, A, 7)``, ``agent_velocity_mps (T, A, 2)``, ``agent_valid (T, A)``, ``agent_labels (A,)``.
    ``collisions (T, A)``: ``collisions[k, a]`` is True when the ego's and agent ``a``'s
    footprints overlapped at some time in ``(t_{k-1}, t_k]`` (tick 0: at ``t_0``), the poses
    interpolated between the recorded ticks
    (:func:`~drivestack.sim.swept_collision.swept_ego_agent_collisions`: a fast crossing that
    leaves them apart at both ticks counts at tick ``k``, where the boxes themselves may no
    longer overlap; an agent that appeared at tick ``k`` only at ``t_k``); ``planner_step_s
    (T-1,)`` the wall time of each planner call and ``sim_step_s (T-1,)`` that of everything
    else in the tick (observation, tracker, world step, recording, collision test); ``plans``
    the planned trajectories.
    Traffic lights: ``traffic_light_ids (L,)`` (the map's lights, in map order) and
    ``traffic_light_state (T, L)`` int8 codes of
    :data:`~drivestack.structures.traffic_light.SIGNAL_STATES` (what each light showed at
    each tick, as the planner's :class:`~drivestack.sim.world.Observation` had it; ``(T, 0)``
    without lights, the default).
    Planner debug (:data:`~drivestack.sim.history_arrays.PLANNER_DEBUG_ARRAYS`), one entry per
    planner call like ``planner_step_s``: ``planner_stop_reason (T-1,)`` unicode, why the
    planner braked instead of driving a proposal (its ``debug.stop_reason``, e.g. PDMPlanner's
    :data:`~drivestack.planning.pdm.STOP_REASONS`; ``""`` when it drove on or has no
    ``debug``), and ``planner_emergency (T-1,)`` bool (its ``debug.emergency``: braking as
    hard as allowed); both all "none" when not given (a history from before them).
    """

    dt_s: float
    timestamp_ns: np.ndarray
    ego_x_m: np.ndarray
    ego_y_m: np.ndarray
    ego_yaw_rad: np.ndarray
    ego_speed_mps: np.ndarray
    ego_accel_mps2: np.ndarray
    ego_steering_rad: np.ndarray
    ego_boxes: np.ndarray
    agent_ids: tuple[str, ...]
    agent_labels: np.ndarray
    agent_boxes: np.ndarray
    agent_velocity_mps: np.ndarray
    agent_valid: np.ndarray
    collisions: np.ndarray
    planner_step_s: np.ndarray
    sim_step_s: np.ndarray
    vehicle: VehicleParams
    plans: tuple[Trajectory, ...] = ()
    traffic_light_ids: tuple[str, ...] = ()
    traffic_light_state: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int8))
    planner_stop_reason: np.ndarray = field(default_factory=lambda: np.zeros(0, np.str_))
    planner_emergency: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def __post_init__(self) -> None:
        """``traffic_light_state`` as ``(T, L)`` int8 (``(T, 0)`` when not given), the planner
        debug arrays as ``(T-1,)`` unicode / bool (none when not given); ``ValueError`` when a
        shape does not match the ticks (and ``traffic_light_ids``)."""
        object.__setattr__(self, "traffic_light_ids", tuple(map(str, self.traffic_light_ids)))
        n_ticks, n_lights = len(self), len(self.traffic_light_ids)
        codes = np.asarray(self.traffic_light_state, dtype=np.int8)
        if codes.size == 0 and n_lights == 0:  # not given (or empty): no light
            codes = np.zeros((n_ticks, 0), dtype=np.int8)
        if codes.shape != (n_ticks, n_lights):
            raise ValueError(
                f"SimHistory.traffic_light_state must have shape ({n_ticks}, {n_lights}) "
                f"(ticks, traffic_light_ids), got {codes.shape}"
            )
        object.__setattr__(self, "traffic_light_state", codes)
        n_calls = max(n_ticks - 1, 0)
        for name, dtype, none in (
            ("planner_stop_reason", np.str_, ""),
            ("planner_emergency", np.bool_, False),
        ):
            values = np.asarray(getattr(self, name))
            if values.size == 0:  # not given: no planner call braked
                values = np.full(n_calls, none, dtype=dtype)
            if values.shape != (n_calls,) or values.dtype.kind != np.dtype(dtype).kind:
                raise ValueError(
                    f"SimHistory.{name} must be a ({n_calls},) {np.dtype(dtype).name} array "
                    f"(one per planner call, T-1), got {values.shape} {values.dtype}"
                )
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return int(self.timestamp_ns.shape[0])

    @property
    def time_s(self) -> np.ndarray:
        return self.timestamp_ns.astype(np.float64) * 1e-9

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array field (:data:`HISTORY_ARRAYS`), for saving with ``np.savez`` (the light
        ids and stop reasons as unicode arrays, which load without pickle)."""
        out = {name: np.asarray(getattr(self, name)) for name in HISTORY_ARRAYS}
        out["traffic_light_ids"] = np.array(self.traffic_light_ids, dtype=np.str_)
        return out


def history_arrays_of(arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The :class:`SimHistory` fields of saved arrays (``history.npz``: :meth:`SimHistory.arrays`):
    every name of :data:`HISTORY_ARRAYS`, those of :data:`ADDED_HISTORY_ARRAYS` filled in as
    "no traffic light" when an older file lacks them (the planner debug arrays left out:
    :class:`SimHistory` fills them in as "no stop"); ``traffic_light_ids`` as a tuple.

    Raises ``KeyError`` naming the first other array missing.
    """
    out: dict[str, Any] = {}
    for name in HISTORY_ARRAYS:
        if name in arrays:
            out[name] = arrays[name]
        elif name not in ADDED_HISTORY_ARRAYS:
            raise KeyError(name)
    ids = out.pop("traffic_light_ids", None)
    out["traffic_light_ids"] = () if ids is None else tuple(str(i) for i in np.asarray(ids))
    if "traffic_light_state" not in out:
        n_ticks = len(np.asarray(out["timestamp_ns"]))
        out["traffic_light_state"] = np.zeros((n_ticks, len(out["traffic_light_ids"])), np.int8)
    return out


def _check_plan(planner: object, plan: object, obs: Observation, dt_s: float) -> None:
    """Refuse a planner output that is not a ``Trajectory`` (``TypeError``), not in the
    observation's frame, empty, or not covering the tick ahead, from the observation's time
    to one ``dt_s`` later (a plan starting later, a stale plan, one too short for the tracker
    to follow) (``ValueError``), naming the planner's class (cheap: every tick)."""
    trajectory = check_stage_output("planner", planner, Trajectory, plan, "closed loop")
    who = f"closed loop: the planner {type(planner).__name__}.step returned"
    if trajectory.frame != obs.ego.frame:
        raise ValueError(
            f"{who} a Trajectory in frame {trajectory.frame!r}, expected the observation's "
            f"frame {obs.ego.frame!r} (plans are in the map frame, as the ego state is)"
        )
    if len(trajectory) == 0:
        raise ValueError(f"{who} an empty Trajectory (the tracker follows at least one tick)")
    t0, t_end = int(trajectory.timestamp_ns[0]), int(trajectory.timestamp_ns[-1])
    now = int(obs.timestamp_ns)
    tick_end = now + round(dt_s * 1e9)
    if t0 > now or t_end < tick_end:
        raise ValueError(
            f"{who} a Trajectory covering timestamp_ns [{t0}, {t_end}] for an observation at "
            f"{now}: a plan starts at the observation's time (or before) and covers at least "
            f"one tick, dt_s = {dt_s:g} s, to {tick_end}"
        )


def run_closed_loop(
    world: World,
    planner: Planner,
    tracker: Tracker,
    n_steps: int,
    callbacks: Sequence[StepCallback] = (),
    keep_plans: bool = False,
) -> SimHistory:
    """Run ``n_steps`` ticks from the world's current state and return the history
    (the planner and the tracker are reset first).

    Raises:
        TypeError: the planner's ``step`` returned something else than a ``Trajectory``.
        ValueError: the planner's ``Trajectory`` is not in the observation's (map) frame,
            is empty, or does not cover the observation's time to one tick later.
    """
    planner.reset()
    tracker.reset()
    rec: dict[str, list[np.ndarray]] = {
        k: [] for k in ("t", "ego", "ego_box", "boxes", "vel", "valid", "coll")
    }
    plans: list[Trajectory] = []
    stop_reasons: list[str] = []
    emergencies: list[bool] = []
    step_s: list[float] = []
    sim_s: list[float] = []

    def record() -> None:
        e = world.ego
        rec["t"].append(np.array(world.timestamp_ns))
        rec["ego"].append(
            np.array(
                [
                    e.x_m[0],
                    e.y_m[0],
                    e.yaw_rad[0],
                    e.speed_mps[0],
                    e.acceleration_mps2[0],
                    e.steering_rad[0],
                ]
            )
        )
        box = world.ego_box()
        boxes = world.traffic.boxes()
        valid = world.traffic.state.valid.copy()
        if rec["coll"]:  # overlap at any time since the previous tick (swept)
            hit = swept_ego_agent_collisions(
                rec["ego_box"][-1], rec["boxes"][-1], rec["valid"][-1], box, boxes, valid
            )
        else:  # tick 0: at t_0
            hit = ego_agent_collisions(box, boxes, valid)
        rec["ego_box"].append(box)
        rec["boxes"].append(boxes)
        rec["vel"].append(world.traffic.velocities())
        rec["valid"].append(valid)
        rec["coll"].append(hit)

    record()
    for k in range(n_steps):
        t0 = time.perf_counter()
        obs = world.observe()
        t1 = time.perf_counter()
        plan = planner.step(obs)
        t2 = time.perf_counter()
        _check_plan(planner, plan, obs, world.dt_s)
        reason, emergency = planner_stop(planner)
        stop_reasons.append(reason)
        emergencies.append(emergency)
        accel, steering = tracker.step(world.ego, plan, obs.timestamp_ns, world.dt_s)
        world.step(accel, steering)
        record()
        step_s.append(t2 - t1)
        sim_s.append(time.perf_counter() - t2 + t1 - t0)
        if keep_plans:
            plans.append(plan)
        for callback in callbacks:
            callback(k, world, plan)
    ego = np.stack(rec["ego"])
    n_ticks, n_agents = len(ego), len(world.traffic.specs)  # (T, 0, 7) without agents
    return SimHistory(
        dt_s=world.dt_s,
        timestamp_ns=np.array(rec["t"], dtype=np.int64),
        ego_x_m=ego[:, 0],
        ego_y_m=ego[:, 1],
        ego_yaw_rad=ego[:, 2],
        ego_speed_mps=ego[:, 3],
        ego_accel_mps2=ego[:, 4],
        ego_steering_rad=ego[:, 5],
        ego_boxes=np.stack(rec["ego_box"]),
        agent_ids=tuple(s.agent_id for s in world.traffic.specs),
        agent_labels=world.traffic.labels,
        agent_boxes=np.stack(rec["boxes"]).reshape(n_ticks, n_agents, 7),
        agent_velocity_mps=np.stack(rec["vel"]).reshape(n_ticks, n_agents, 2),
        agent_valid=np.stack(rec["valid"]).reshape(n_ticks, n_agents),
        collisions=np.stack(rec["coll"]).reshape(n_ticks, n_agents),
        planner_step_s=np.array(step_s),
        sim_step_s=np.array(sim_s),
        vehicle=world.vehicle,
        plans=tuple(plans),
        traffic_light_ids=tuple(light.light_id for light in world.road_map.traffic_lights),
        traffic_light_state=light_codes_at(world.road_map, np.array(rec["t"], dtype=np.int64)),
        planner_stop_reason=np.array(stop_reasons, dtype=np.str_),
        planner_emergency=np.array(emergencies, dtype=bool),
    )


def planner_stop(planner: object) -> tuple[str, bool]:
    """Why ``planner``'s last ``step`` braked instead of driving on, from its ``debug``
    (:class:`~drivestack.planning.pdm.PlanDebug` of PDMPlanner and IDMPlanner:
    ``stop_reason`` and ``emergency``): ``("", False)`` when it drove on or has no such
    ``debug`` (a planner of your own need not have one); ``TypeError`` naming the planner's
    class for a ``stop_reason`` that is neither None nor a str."""
    debug = getattr(planner, "debug", None)
    reason = getattr(debug, "stop_reason", None)
    if reason is not None and not isinstance(reason, str):
        raise TypeError(
            f"closed loop: {type(planner).__name__}.debug.stop_reason must be None or a str, "
            f"got {type(reason).__name__} {reason!r}"
        )
    return reason or "", bool(getattr(debug, "emergency", False))
