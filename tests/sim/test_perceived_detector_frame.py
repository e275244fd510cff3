"""Closed loop with a plug-in detector whose boxes stay in the LiDAR's frame (review finding
4): before, the tick failed inside the perception metrics ("truth (ego), detections (top) and
tracks must share a frame"); now LidarPerception.observe names the detector, the ego frame
it needs and the transform that moves the boxes there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.frames import EGO, LIDAR
from drivestack.pipeline import Stack, StageOutputError
from drivestack.sim.build import build_scenario
from drivestack.sim.perceived import LIDAR_NAME, LidarPerception, PerceivedWorld, default_lidar
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.sensors import SensorScene
from drivestack.structures import Boxes3D, SensorFrame

REPO = Path(__file__).resolve().parents[2]
ROW = np.array([[20.0, 0.0, 0.8, 4.5, 1.8, 1.5, 0.0]])


class LidarFrameDetector:
    """One car 20 m along the LiDAR's x, in the LiDAR's frame; moved to the ego frame with
    the frame's extrinsic when ``fixed``."""

    def __init__(self, fixed: bool = False) -> None:
        self.fixed = fixed

    def reset(self) -> None:
        pass

    def step(self, frame: SensorFrame) -> Boxes3D:
        cloud = frame.lidar(LIDAR_NAME)
        boxes = Boxes3D.from_array7(ROW, cloud.frame, frame.timestamp_ns, label=[1], score=[0.9])
        if self.fixed:
            return boxes.transformed(frame.ego_from_sensor[LIDAR_NAME], EGO)
        return boxes


def _observe(detector: LidarFrameDetector) -> tuple[object, LidarPerception]:
    scenario = next(
        s
        for s in load_scenarios(REPO / "configs/scenarios/ccrs.yaml")
        if s.name.endswith("[20kph]")
    )
    built = build_scenario(scenario)
    perception = LidarPerception(
        Stack(detector), default_lidar(), SensorScene.from_road_map(built.road_map)
    )
    world = PerceivedWorld(built.world, perception)
    world.reset()
    return world.observe(), perception


def test_lidar_frame_boxes_name_the_detector_and_the_fix() -> None:
    """The sweep is in frame ``lidar``, mounted as sensor ``top``: the fix names the mount."""
    with pytest.raises(StageOutputError) as info:
        _observe(LidarFrameDetector())
    assert str(info.value) == (
        f"closed loop: the detector LidarFrameDetector.step returned boxes in frame "
        f"{LIDAR!r}, not 'ego', for a frame at 0 with an ego pose: the simulation scores "
        "them against the truth in the ego frame and places them in the world with the ego "
        f"pose; move them to the ego frame before returning them: "
        f'boxes.transformed(frame.ego_from_sensor[{LIDAR_NAME!r}], "ego")'
    )


def test_the_fix_places_the_box_in_the_world() -> None:
    observation, perception = _observe(LidarFrameDetector(fixed=True))
    ego = observation.ego  # type: ignore[attr-defined]
    lidar = default_lidar()
    # the box 20 m along the LiDAR's x: in the world through the mount and the ego pose
    expected_ego = lidar.ego_from_lidar.apply(ROW[:, :3])
    heading = np.array([np.cos(ego.yaw_rad), np.sin(ego.yaw_rad)])
    left = np.array([-heading[1], heading[0]])
    expected_xy = (
        np.array([ego.x_m, ego.y_m]) + expected_ego[0, 0] * heading + expected_ego[0, 1] * left
    )
    boxes = observation.agents  # type: ignore[attr-defined]
    assert boxes.frame == "world" and len(boxes) == 1
    np.testing.assert_allclose(boxes.center_m[0, :2], expected_xy, atol=1e-9)
    assert perception.metrics.frames == 1
