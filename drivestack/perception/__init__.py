"""drivestack.perception: sensor frames in, 3D boxes out (``lidar``, ``camera``, ``fusion``).

- :mod:`~drivestack.perception.lidar`: the classical LiDAR detector, built with
  :func:`build_lidar_detector` from ``configs/perception/*.yaml``
  (:func:`load_lidar_detector_config`), and :class:`Open3dBaselineDetector`, the plain
  open3d pipeline every detection report shows beside it (``perception: open3d-baseline`` in a
  stack YAML);
- :mod:`~drivestack.perception.camera`: 2D detection on camera images;
- :mod:`~drivestack.perception.fusion`: camera-LiDAR association, fused tracking, painting.

The names below import their module on first use (``from drivestack.perception import
build_lidar_detector``); open3d is imported only when the baseline runs a frame, so importing
this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from drivestack.perception.lidar.baseline import Open3dBaselineConfig, Open3dBaselineDetector
    from drivestack.perception.lidar.config import LidarDetectorConfig, load_lidar_detector_config
    from drivestack.perception.lidar.detector import (
        Detection,
        LidarDetector,
        RunReport,
        StepReport,
        build_lidar_detector,
    )

#: exported name -> its module under this package (imported on first use)
_EXPORTS = {
    "Open3dBaselineConfig": "lidar.baseline",
    "Open3dBaselineDetector": "lidar.baseline",
    "LidarDetectorConfig": "lidar.config",
    "load_lidar_detector_config": "lidar.config",
    "Detection": "lidar.detector",
    "LidarDetector": "lidar.detector",
    "RunReport": "lidar.detector",
    "StepReport": "lidar.detector",
    "build_lidar_detector": "lidar.detector",
}
__all__ = [
    "Detection",
    "LidarDetector",
    "LidarDetectorConfig",
    "Open3dBaselineConfig",
    "Open3dBaselineDetector",
    "RunReport",
    "StepReport",
    "build_lidar_detector",
    "load_lidar_detector_config",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
__dir__ = lazy_dir(__name__, __all__)
