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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import Stack, check_detections_in_ego
from drivestack.sim.perception_metrics import PerceptionEvalConfig, PerceptionMetrics
from drivestack.sim.sensors import LIDAR_PRESETS, LidarModel, SensorScene
from drivestack.sim.sensors.lidar import MIN_SIGNAL_PER_M2
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
        # the truth is scored and the boxes placed in the world from the ego frame: a plug-in
        # detector's boxes left in the LiDAR's frame are its error, named with the fix
        check_detections_in_ego(
            self.stack.detector,
            frame,
            out.detections,
            "closed loop",
            "the simulation scores them against the truth in the ego frame and places them in "
            "the world with the ego pose",
        )
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


#: The beam layouts ``--lidar-params`` offers (:data:`~drivestack.sim.sensors.LIDAR_PRESETS`).
LidarPresetName = Literal["hdl64", "vlp32", "os128"]


@dataclass(frozen=True)
class SimLidarParams:
    """The simulated LiDAR of closed-loop runs (``drivestack sim --lidar-params YAML``, read
    strictly by :func:`load_lidar_params`); the defaults are :func:`default_lidar`'s.

    Attributes:
        preset: beam layout, ``hdl64`` (HDL-64E), ``vlp32`` (VLP-32C) or ``os128`` (OS1-128).
        mount_xyz_m: ``(3,)`` the sensor's origin in the ego frame (x forward from the rear
            axle, y left, z up from the ground), metres.
        mount_yaw_rad: the sensor's yaw about the ego z axis.
        range_noise_std_m: Gaussian range noise, >= 0.
        dropout_probability: chance a detected return is lost, in [0, 1).
        min_signal_per_m2: detection limit (``reflectivity * cos(incidence) / range**2``),
            >= 0; 0 keeps every hit within the preset's range.
        seed: base seed of the noise, an int in [0, 2**63).
    """

    preset: LidarPresetName = "hdl64"
    mount_xyz_m: tuple[float, float, float] = (1.3, 0.0, 1.9)
    mount_yaw_rad: float = 0.0
    range_noise_std_m: float = 0.02
    dropout_probability: float = 0.0
    min_signal_per_m2: float = MIN_SIGNAL_PER_M2
    seed: int = 1

    def __post_init__(self) -> None:
        """``ConfigValueError`` (a ``ValueError``) naming the field of a value the LiDAR
        cannot run with."""
        from drivestack.config.strict import check_config_numbers

        if self.preset not in LIDAR_PRESETS:
            raise ValueError(
                f"SimLidarParams.preset: unknown {self.preset!r}; known: {sorted(LIDAR_PRESETS)}"
            )
        check_config_numbers(self, "mount_xyz_m", "mount_yaw_rad")
        check_config_numbers(self, "range_noise_std_m", "min_signal_per_m2", at_least=0.0)
        check_config_numbers(self, "dropout_probability", at_least=0.0, below=1.0)
        check_config_numbers(self, "seed", integer=True, at_least=0, below=2**63)

    def model(self) -> LidarModel:
        """The :class:`~drivestack.sim.sensors.LidarModel` these settings describe."""
        return LidarModel.from_preset(
            self.preset,
            SE3.from_xyz_yaw(list(self.mount_xyz_m), self.mount_yaw_rad),
            range_noise_std_m=self.range_noise_std_m,
            dropout_probability=self.dropout_probability,
            min_signal_per_m2=self.min_signal_per_m2,
            seed=self.seed,
        )

    def as_dict(self) -> dict[str, Any]:
        """Every value, as JSON has it (the mount as a list): what ``sim.json`` and each
        ``metrics.json`` record."""
        return {**asdict(self), "mount_xyz_m": list(self.mount_xyz_m)}


def load_lidar_params(path: str | Path) -> SimLidarParams:
    """:class:`SimLidarParams` from a YAML mapping, strictly
    (:func:`drivestack.config.load_yaml_config`: an unknown key, a wrong type, a value the
    settings refuse or an empty file is a ``ConfigError`` naming the file and the key, e.g.
    ``mount_xyz_m.2``)."""
    from drivestack.config import load_yaml_config

    return load_yaml_config(SimLidarParams, path)


def default_lidar() -> LidarModel:
    """The simulated LiDAR of closed-loop runs without ``--lidar-params``
    (:class:`SimLidarParams`'s defaults): HDL-64E-like, roof-mounted 1.3 m ahead of the rear
    axle (the ego origin) and 1.9 m above the ground (KITTI's Velodyne: 1.73 m), seed 1."""
    return SimLidarParams().model()


def with_lidar_perception(built: Any, stack: Stack, lidar: LidarModel | None = None) -> Any:
    """A copy of a built scenario whose planner observes through ``stack`` (see module doc)."""
    import dataclasses

    perception = LidarPerception(
        stack, lidar or default_lidar(), SensorScene.from_road_map(built.road_map)
    )
    return dataclasses.replace(built, world=PerceivedWorld(built.world, perception))
