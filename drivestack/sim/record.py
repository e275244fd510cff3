"""Simulated logs: render a closed-loop run's history into sensor frames and write a log.

Any recorded :class:`~drivestack.sim.runner.SimHistory` becomes a drive that perception
cannot tell from a logged one: per tick, a ray-cast LiDAR sweep (with motion distortion from
the ego's speed and yaw rate), camera images, the ego pose, the mountings, and the agents as
ground-truth labels in the ego frame. The frames go into drivestack's log format, so
``drivestack replay`` runs the stack over them like over any recording.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.frames import EGO, WORLD
from drivestack.core.transforms import SE3
from drivestack.sim.runner import SimHistory
from drivestack.sim.sensors import CameraModel, LidarModel, SensorScene
from drivestack.sim.sensors.camera import RenderedImages
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame
from drivestack.structures.traffic_light import SIGNAL_STATES

LIDAR_NAME = "top"


def sensor_frames(
    history: SimHistory,
    scene: SensorScene,
    lidar: LidarModel,
    cameras: Sequence[CameraModel] = (),
    *,
    every: int = 1,
) -> Iterator[SensorFrame]:
    """One :class:`SensorFrame` per ``every``-th tick of ``history`` (labels in the ego frame,
    at the tick's time: the time of the camera images and of the LiDAR's forward column;
    ``label_ids`` the agents' ids)."""
    for frame, _ in _rendered_frames(history, scene, lidar, cameras, every=every):
        yield frame


def sensor_frames_with_visibility(
    history: SimHistory,
    scene: SensorScene,
    lidar: LidarModel,
    camera: CameraModel,
    *,
    every: int = 1,
) -> Iterator[tuple[SensorFrame, np.ndarray]]:
    """Like :func:`sensor_frames` with one camera, each frame with its labels' visible share
    ``(N,)`` in that camera (:meth:`CameraModel.visible_fraction`; NaN: not in the image)."""
    for frame, (world_from_ego, renders) in _rendered_frames(
        history, scene, lidar, [camera], every=every
    ):
        yield frame, camera.visible_fraction(scene, world_from_ego, renders[0])


def _rendered_frames(
    history: SimHistory,
    scene: SensorScene,
    lidar: LidarModel,
    cameras: Sequence[CameraModel],
    *,
    every: int,
) -> Iterator[tuple[SensorFrame, tuple[SE3, list[RenderedImages]]]]:
    """The frames of :func:`sensor_frames`, each with its pose and the cameras' renderings
    (the scene holds the frame's agents until the next one is made)."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    yaw_rate = (
        np.gradient(np.unwrap(history.ego_yaw_rad), history.dt_s)
        if len(history) > 1
        else np.zeros(1)
    )
    for t in range(0, len(history), every):
        stamp = int(history.timestamp_ns[t])
        world_from_ego = SE3.from_xyz_yaw(
            [history.ego_x_m[t], history.ego_y_m[t], 0.0], history.ego_yaw_rad[t]
        )
        valid = history.agent_valid[t]
        agents = Boxes3D.from_array7(
            history.agent_boxes[t][valid],
            WORLD,
            stamp,
            label=history.agent_labels[valid],
            velocity_mps=history.agent_velocity_mps[t][valid],
        )
        scene.set_agents(agents)
        cloud = lidar.scan(
            scene,
            world_from_ego,
            stamp,
            speed_mps=float(history.ego_speed_mps[t]),
            yaw_rate_radps=float(yaw_rate[t]),
        )
        # lamps lit as the lights showed at this tick (the history records each light's state)
        lights = {
            str(light): SIGNAL_STATES[int(code)]
            for light, code in zip(
                history.traffic_light_ids, history.traffic_light_state[t], strict=True
            )
        }
        renders = [cam.render(scene, world_from_ego, stamp, light_states=lights) for cam in cameras]
        frame = SensorFrame(
            stamp,
            lidars={LIDAR_NAME: cloud},
            cameras={cam.calibration.name: r.rgb for cam, r in zip(cameras, renders, strict=True)},
            ego_from_sensor={LIDAR_NAME: lidar.ego_from_lidar},
            world_from_ego=world_from_ego,
            labels=agents.transformed(world_from_ego.inverse(), EGO),
            label_ids=tuple(str(i) for i, ok in zip(history.agent_ids, valid, strict=True) if ok),
            source=f"simulation t={stamp}",
        )
        yield frame, (world_from_ego, renders)


def write_sim_log(
    path: str | Path,
    history: SimHistory,
    scene: SensorScene,
    lidar: LidarModel,
    cameras: Sequence[CameraModel] = (),
    *,
    config: dict[str, Any],
    every: int = 1,
    progress: bool = True,
) -> int:
    """Write the rendered frames of ``history`` as a drivestack log; returns the frame count."""
    from drivestack.core.progress import progress as progress_bar
    from drivestack.replay.log_format import LogWriter

    count = 0
    with LogWriter(path, config=config, command="drivestack.sim.record.write_sim_log") as writer:
        frames = sensor_frames(history, scene, lidar, cameras, every=every)
        for frame in progress_bar(
            frames,
            total=(len(history) + every - 1) // every,
            unit="frame",
            disable=not progress,
            desc="render",
        ):
            writer.sensor_frame(frame)
            count += 1
    return count
