"""Sensor simulation: ray-cast LiDAR and pinhole camera over a scene of meshes (open3d)."""

from drivestack.sim.sensors.camera import CameraModel, RenderedImages
from drivestack.sim.sensors.lidar import LIDAR_PRESETS, LidarModel, LidarPreset
from drivestack.sim.sensors.scene import SceneObject, SensorScene

__all__ = [
    "LIDAR_PRESETS",
    "CameraModel",
    "LidarModel",
    "LidarPreset",
    "RenderedImages",
    "SceneObject",
    "SensorScene",
]
