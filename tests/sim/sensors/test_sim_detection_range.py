"""The simulated sensor's detector (configs/perception/lidar_sim.yaml) looks as far as the
simulated LiDAR returns (its hdl64 preset ends at KITTI's 80 m): a car 70-78 m ahead is a Car
box. With the region of interest ending at 60 m it was dropped, and in the closed loop a lead
car 16.7 m/s slower was first tracked 59 m ahead, too late for a comfortable stop (ccrm 80 km/h,
--perception lidar)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import load_lidar_detector_config
from drivestack.perception.lidar.detector import LidarDetector
from drivestack.sim.perceived import LIDAR_NAME, default_lidar
from drivestack.sim.sensors import SensorScene
from drivestack.structures import Boxes3D, ObjectClass, SensorFrame

REPO = Path(__file__).resolve().parents[3]
SIM_CONFIG = REPO / "configs/perception/lidar_sim.yaml"


@pytest.mark.parametrize(("range_m", "bearing_deg"), [(70.0, 0.0), (78.0, 8.0)])
def test_a_car_beyond_60_m_is_detected(range_m: float, bearing_deg: float) -> None:
    lidar = default_lidar()
    mount = lidar.ego_from_lidar.translation
    b = np.deg2rad(bearing_deg)
    car = [mount[0] + range_m * np.cos(b), mount[1] + range_m * np.sin(b), 0.75, 4.5, 1.9, 1.5, b]
    scene = SensorScene()
    scene.set_agents(Boxes3D.from_array7([car], "world", label=[ObjectClass.CAR]))
    cloud = lidar.scan(scene, SE3.identity(), 0)
    assert np.count_nonzero(cloud.attributes["instance"] == 1) >= 20  # the sensor sees it
    frame = SensorFrame(
        0,
        lidars={LIDAR_NAME: cloud},
        ego_from_sensor={LIDAR_NAME: lidar.ego_from_lidar},
        world_from_ego=SE3.identity(),
        source="test",
    )
    found = LidarDetector(load_lidar_detector_config(SIM_CONFIG)).step(frame)
    assert len(found)
    d = np.linalg.norm(found.center_m[:, :2] - np.asarray(car[:2]), axis=1)
    k = int(np.argmin(d))
    assert d[k] < 1.5 and found.label[k] == ObjectClass.CAR
