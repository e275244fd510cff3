"""Closed loop through the real stack: the planner sees tracks, not the ground truth.

Each tick the world's agents are rendered by the ray-cast LiDAR (and its map scene), the
sweep goes through the stack's perception and tracking exactly as a logged sweep would (a
:class:`SensorFrame` like ingestion's), and the planner's :class:`Observation` carries the
tracked boxes in the world frame. A missed pedestrian therefore becomes a collision in the
recorded (ground-truth) history, and the driving metrics show it. Beside the driving
metrics, every tick's detections and tracks are scored against the simulator's truth
(:class:`~drivestack.sim.perception_metrics.PerceptionMetrics`: AP, recall, precision, MOTA,
IDS; :meth:`LidarPerception.metrics`).

Traffic lights: the LiDAR observer passes on what the world it wraps says, the true states,
or, with :func:`~drivestack.sim.perceived_lights.with_light_perception` applied first (a
:class:`PerceivedWorld` whose observer is the camera's
:class:`~drivestack.sim.perceived_lights.CameraLightPerception`), the perceived ones.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import numpy as np

from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import Stack
from drivestack.sim.perception_metrics import PerceptionEvalConfig, PerceptionMetrics
from drivestack.sim.sensors import LidarModel, SensorScene
from drivestack.sim.world import Observation, World
from drivestack.structures.sensor_frame import SensorFrame

LIDAR_NAME = "top"


class LidarPerception:
    """Observer: world -> LiDAR sweep -> stack -> tracked agents in the world frame."""

    def __init__(
        self,
        stack: Stack,
        lidar: LidarModel,
        scene: SensorScene,
        eval_config: PerceptionEvalConfig | None = None,
    ) -> None:
        self.stack = stack
        self.lidar = lidar
        self.scene = scene
        self.eval_config = eval_config or PerceptionEvalConfig()
        self.stage_ms: dict[str, list[float]] = {}
        self.metrics = PerceptionMetrics(self.eval_config)

    def reset(self) -> None:
        self.stack.reset()
        self.stage_ms = {}
        self.metrics = PerceptionMetrics(self.eval_config)

    def observe(self, world: World) -> Observation:
        truth = world.observe()
        ego = truth.ego
        world_from_ego = SE3.from_xyz_yaw([ego.x_m, ego.y_m, 0.0], ego.yaw_rad)
        start = time.perf_counter()
        self.scene.set_agents(truth.agents)
        cloud = self.lidar.scan(
            self.scene,
            world_from_ego,
            truth.timestamp_ns,
            speed_mps=ego.speed_mps,
            yaw_rate_radps=ego.yaw_rate_radps,
        )
        self.stage_ms.setdefault("lidar_sim", []).append(1e3 * (time.perf_counter() - start))
        frame = SensorFrame(
            truth.timestamp_ns,
            lidars={LIDAR_NAME: cloud},
            ego_from_sensor={LIDAR_NAME: self.lidar.ego_from_lidar},
            world_from_ego=world_from_ego,
            source=f"simulation t={truth.timestamp_ns}",
        )
        out = self.stack.step(frame)
        for stage, ms in out.stage_ms.items():
            self.stage_ms.setdefault(stage, []).append(ms)
        # score this tick against the truth: agent i produced the returns of instance i + 1
        n_agents = len(truth.agents)
        points = np.bincount(cloud.attributes["instance"], minlength=n_agents + 1)[1 : n_agents + 1]
        self.metrics.add_frame(
            f"t={truth.timestamp_ns}",
            truth.agents.transformed(world_from_ego.inverse(), EGO),
            truth.agent_ids,
            points,
            out.detections,
            out.tracks,
        )
        if out.tracks is not None:
            boxes = out.tracks.boxes
            ids = tuple(f"track_{i}" for i in out.tracks.track_id)
        else:
            boxes = out.detections
            ids = tuple(f"detection_{i}" for i in range(len(boxes)))
        if boxes.frame == EGO:
            boxes = boxes.transformed(world_from_ego, WORLD)
        # the lights as the wrapped world gives them (true, or perceived by a light observer)
        return Observation(truth.timestamp_ns, ego, boxes, ids, truth.traffic_lights)

    def timing_ms(self) -> dict[str, float]:
        """Median milliseconds per stage over the ticks so far."""
        return {stage: float(np.median(values)) for stage, values in self.stage_ms.items()}


class Observer(Protocol):
    """What a :class:`PerceivedWorld` observes through: ``observe(world)`` each tick, and
    ``reset()`` when the run starts over."""

    def observe(self, world: World) -> Observation: ...

    def reset(self) -> None: ...


class PerceivedWorld:
    """A :class:`World` whose ``observe()`` goes through an observer; all else is the world's
    (stepping, the ego, the traffic and so the recorded ground truth). Observers compose: the
    world wrapped may itself be a :class:`PerceivedWorld` (:func:`observers` lists them)."""

    def __init__(self, world: World | PerceivedWorld, perception: Observer) -> None:
        self._world = world
        self.perception = perception

    def __getattr__(self, name: str) -> Any:
        return getattr(self._world, name)

    def reset(self) -> None:
        self._world.reset()
        self.perception.reset()

    def observe(self) -> Observation:
        return self.perception.observe(self._world)  # type: ignore[arg-type]


def observers(world: object) -> list[Observer]:
    """The observers of ``world``'s :class:`PerceivedWorld` wrappers, outermost first (none
    for a plain :class:`World`)."""
    found = []
    while isinstance(world, PerceivedWorld):
        found.append(world.perception)
        world = world._world
    return found


def default_lidar() -> LidarModel:
    """The simulated LiDAR of closed-loop runs: HDL-64E-like, roof-mounted 1.3 m ahead of the
    rear axle (the ego origin) and 1.9 m above the ground (KITTI's Velodyne: 1.73 m)."""
    return LidarModel.from_preset("hdl64", SE3.from_xyz_yaw([1.3, 0.0, 1.9], 0.0), seed=1)


def with_lidar_perception(built: Any, stack: Stack, lidar: LidarModel | None = None) -> Any:
    """A copy of a built scenario whose planner observes through ``stack`` (see module doc)."""
    import dataclasses

    perception = LidarPerception(
        stack, lidar or default_lidar(), SensorScene.from_road_map(built.road_map)
    )
    return dataclasses.replace(built, world=PerceivedWorld(built.world, perception))
