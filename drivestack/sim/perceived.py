"""Closed loop through the real stack: the planner sees tracks, not the ground truth.

Each tick the world's agents are rendered by the ray-cast LiDAR (and its map scene), the
sweep goes through the stack's perception and tracking exactly as a logged sweep would (a
:class:`SensorFrame` like ingestion's), and the planner's :class:`Observation` carries the
tracked boxes in the world frame. A missed pedestrian therefore becomes a collision in the
recorded (ground-truth) history, and the driving metrics show it. Beside the driving
metrics, every tick's detections and tracks are scored against the simulator's truth
(:class:`~drivestack.sim.perception_metrics.PerceptionMetrics`: AP, recall, precision, MOTA,
IDS; :meth:`LidarPerception.metrics`).

Warm-up: a stack in a car has been running before any scenario starts, so at the first tick
its tracks already have velocities. A closed-loop run starts cold instead: a car ahead at
50 km/h would come out of the first tick as a new track standing still (the Kalman filter's
velocity starts at zero), and PDM brakes at 4 m/s^2 for it. So before the first tick the
observer feeds the stack ``warmup_s`` (default :data:`WARMUP_S`) of sweeps of the first
tick's world extrapolated back in time at constant velocities (the ego along its heading,
each agent along its velocity), one per world step, when the world is reset
(:class:`WarmStart`): neither scored nor timed.

Traffic lights: the LiDAR observer passes on what the world it wraps says, the true states,
or, with :func:`~drivestack.sim.perceived_lights.with_light_perception` applied first (a
:class:`PerceivedWorld` whose observer is the camera's
:class:`~drivestack.sim.perceived_lights.CameraLightPerception`), the perceived ones.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.pipeline import Stack, check_detections_in_ego
from drivestack.sim.perception_metrics import PerceptionEvalConfig, PerceptionMetrics
from drivestack.sim.sensors import LIDAR_PRESETS, LidarModel, SensorScene
from drivestack.sim.sensors.lidar import MIN_SIGNAL_PER_M2
from drivestack.sim.world import Observation, World
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.sensor_frame import SensorFrame

LIDAR_NAME = "top"

#: Seconds of extrapolated sweeps the stack sees before a run's first tick (see the module
#: docstring): five 0.1 s steps, enough for a track's velocity to settle within ~0.5 m/s.
WARMUP_S = 0.5


class LidarPerception:
    """Observer: world -> LiDAR sweep -> stack -> tracked agents in the world frame."""

    def __init__(
        self,
        stack: Stack,
        lidar: LidarModel,
        scene: SensorScene,
        eval_config: PerceptionEvalConfig | None = None,
        warmup_s: float = WARMUP_S,
    ) -> None:
        if not warmup_s >= 0.0:
            raise ValueError(f"warmup_s must be >= 0 seconds, got {warmup_s}")
        self.stack = stack
        self.lidar = lidar
        self.scene = scene
        self.eval_config = eval_config or PerceptionEvalConfig()
        self.warmup_s = float(warmup_s)
        self.stage_ms: dict[str, list[float]] = {}
        self.metrics = PerceptionMetrics(self.eval_config)

    def reset(self) -> None:
        self.stack.reset()
        self.stage_ms = {}
        self.metrics = PerceptionMetrics(self.eval_config)

    def observe(self, world: World) -> Observation:
        truth = world.observe()
        ego = truth.ego
        start = time.perf_counter()
        world_from_ego = _world_from_ego(ego)
        frame = self._sweep(ego, world_from_ego, truth.agents, truth.timestamp_ns)
        self.stage_ms.setdefault("lidar_sim", []).append(1e3 * (time.perf_counter() - start))
        cloud = frame.lidars[LIDAR_NAME]
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

    def _sweep(
        self, ego: EgoState, world_from_ego: SE3, agents: Boxes3D, timestamp_ns: int
    ) -> SensorFrame:
        """The simulated sweep of ``agents`` (world frame) seen from ``ego`` (at
        ``world_from_ego``) at ``timestamp_ns``, as a :class:`SensorFrame` like ingestion's."""
        self.scene.set_agents(agents)
        cloud = self.lidar.scan(
            self.scene,
            world_from_ego,
            timestamp_ns,
            speed_mps=ego.speed_mps,
            yaw_rate_radps=ego.yaw_rate_radps,
        )
        return SensorFrame(
            timestamp_ns,
            lidars={LIDAR_NAME: cloud},
            ego_from_sensor={LIDAR_NAME: self.lidar.ego_from_lidar},
            world_from_ego=world_from_ego,
            source=f"simulation t={timestamp_ns}",
        )

    def warm_up(self, world: World) -> None:
        """Step the stack through ``warmup_s`` of sweeps before ``world``'s
        current tick, one per ``world.dt_s``: the ego moved back along its heading and the
        agents along their velocities (module docstring). :meth:`PerceivedWorld.reset` calls
        it with the ground-truth world, after resetting it, so no run times or scores it."""
        first = world.observe()
        ego, agents = first.ego, first.agents
        for k in range(round(self.warmup_s / world.dt_s), 0, -1):
            back_s = k * world.dt_s
            back_ego = dataclasses.replace(
                ego,
                timestamp_ns=ego.timestamp_ns - round(back_s * 1e9),
                x_m=ego.x_m - ego.speed_mps * math.cos(ego.yaw_rad) * back_s,
                y_m=ego.y_m - ego.speed_mps * math.sin(ego.yaw_rad) * back_s,
            )
            centre = agents.center_m.copy()
            centre[:, :2] -= agents.velocity_mps * back_s
            back_agents = dataclasses.replace(
                agents, center_m=centre, timestamp_ns=back_ego.timestamp_ns
            )
            self.stack.step(
                self._sweep(back_ego, _world_from_ego(back_ego), back_agents, back_ego.timestamp_ns)
            )

    def timing_ms(self) -> dict[str, float]:
        """Median milliseconds per stage over the ticks so far."""
        return {stage: float(np.median(values)) for stage, values in self.stage_ms.items()}


def _world_from_ego(ego: EgoState) -> SE3:
    """The ego frame's pose in the world (on the ground, heading ``ego.yaw_rad``)."""
    return SE3.from_xyz_yaw([ego.x_m, ego.y_m, 0.0], ego.yaw_rad)


class Observer(Protocol):
    """What a :class:`PerceivedWorld` observes through: ``observe(world)`` each tick, and
    ``reset()`` when the run starts over."""

    def observe(self, world: World) -> Observation: ...

    def reset(self) -> None: ...


@runtime_checkable
class WarmStart(Protocol):
    """An observer that prepares itself on the world a run starts in:
    :meth:`PerceivedWorld.reset` calls ``warm_up(world)`` after the reset, with the
    ground-truth :class:`World` (:func:`ground_truth_world`), e.g.
    :meth:`LidarPerception.warm_up`."""

    def warm_up(self, world: World) -> None: ...


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
        if isinstance(self.perception, WarmStart):
            self.perception.warm_up(ground_truth_world(self._world))

    def observe(self) -> Observation:
        return self.perception.observe(self._world)  # type: ignore[arg-type]


def ground_truth_world(world: World | PerceivedWorld) -> World:
    """The :class:`World` inside ``world``'s :class:`PerceivedWorld` wrappers (itself for a
    plain :class:`World`): observing it changes no observer's state."""
    while isinstance(world, PerceivedWorld):
        world = world._world
    return world


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


#: The lowest LiDAR mount (m above the road, the ego frame's z) :class:`SimLidarParams`
#: takes: a sensor at or under the road plane sees nothing (the ground is hit only from above).
MIN_MOUNT_HEIGHT_M = 0.1


@dataclass(frozen=True)
class SimLidarParams:
    """The simulated LiDAR of closed-loop runs (``drivestack sim --lidar-params YAML``, read
    strictly by :func:`load_lidar_params`); the defaults are :func:`default_lidar`'s.

    Attributes:
        preset: beam layout, ``hdl64`` (HDL-64E), ``vlp32`` (VLP-32C) or ``os128`` (OS1-128).
        mount_xyz_m: ``(3,)`` the sensor's origin in the ego frame (x forward from the rear
            axle, y left, z up from the ground), metres; z at least
            :data:`MIN_MOUNT_HEIGHT_M`.
        mount_yaw_rad: the sensor's yaw about the ego z axis; its sweep stays synced on the
            ego's forward (the column facing it fires at the frame's timestamp, where the
            labels and camera images are: ``LidarModel.sync_azimuth_rad = -mount_yaw_rad``).
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
        from drivestack.config.strict import ConfigValueError, check_config_numbers

        if self.preset not in LIDAR_PRESETS:
            raise ValueError(
                f"SimLidarParams.preset: unknown {self.preset!r}; known: {sorted(LIDAR_PRESETS)}"
            )
        check_config_numbers(self, "mount_xyz_m", "mount_yaw_rad")
        if not self.mount_xyz_m[2] >= MIN_MOUNT_HEIGHT_M:
            raise ConfigValueError(
                f"the sensor's height above the road (its z) must be at least "
                f"{MIN_MOUNT_HEIGHT_M} m, got {self.mount_xyz_m[2]}: at or under the road it "
                "sees nothing, and a blind sensor's misses do not count (truth agents need a "
                "return)",
                key="mount_xyz_m",
            )
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
            sync_azimuth_rad=-self.mount_yaw_rad,
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
    perception = LidarPerception(
        stack, lidar or default_lidar(), SensorScene.from_road_map(built.road_map)
    )
    return dataclasses.replace(built, world=PerceivedWorld(built.world, perception))
