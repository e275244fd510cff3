"""Camera perception: KITTI camera calibrations and images, the 2D detection stage
(``reset()`` / ``step(CameraImage) -> Detections2D``) with a file replay source
(:mod:`~drivestack.perception.camera.replay`) and a torchvision FCOS detector
(:mod:`~drivestack.perception.camera.detector`, trained by :mod:`~drivestack.perception.camera.training`,
run over a KITTI image folder into KITTI 2D result files by :mod:`~drivestack.perception.camera.predict`).

``from drivestack.perception.camera import TorchCameraDetector, load_detector_config`` works;
the names below import their module on first use, and torch is imported only by the detector
and training modules when a network is built, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from drivestack.perception.camera.detector import (
        CameraDetectorConfig,
        TorchCameraDetector,
        load_detector_config,
    )
    from drivestack.perception.camera.predict import predict_kitti_folder

#: exported name -> its module under this package
_EXPORTS = {
    "CameraDetectorConfig": "detector",
    "TorchCameraDetector": "detector",
    "load_detector_config": "detector",
    "predict_kitti_folder": "predict",
}
__all__ = [
    "CameraDetectorConfig",
    "TorchCameraDetector",
    "load_detector_config",
    "predict_kitti_folder",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
