"""Classical LiDAR 3D detection: ROI, accumulation, ground, clusters, oriented boxes, classes.

Build the stage with :func:`build_lidar_detector` from ``configs/perception/*.yaml``.
"""

from drivestack.perception.lidar.config import LidarDetectorConfig, load_lidar_detector_config
from drivestack.perception.lidar.detector import (
    Detection,
    LidarDetector,
    RunReport,
    StepReport,
    build_lidar_detector,
)

__all__ = [
    "Detection",
    "LidarDetector",
    "LidarDetectorConfig",
    "RunReport",
    "StepReport",
    "build_lidar_detector",
    "load_lidar_detector_config",
]
