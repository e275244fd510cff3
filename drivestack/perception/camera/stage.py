"""The 2D detection stage contract: ``reset()`` then ``step(CameraImage) -> Detections2D``."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.detections_2d import Detections2D


@runtime_checkable
class CameraDetectorStage(Protocol):
    """A camera detector: one :class:`Detections2D` (in the image's frame, at its time) per image.

    Implementations: :class:`drivestack.perception.camera.replay.ReplayCameraDetector` (boxes
    read from files) and :class:`drivestack.perception.camera.detector.TorchCameraDetector`.
    """

    def reset(self) -> None: ...

    def step(self, image: CameraImage) -> Detections2D: ...


def blank_image(calibration: CameraCalibration, timestamp_ns: int) -> CameraImage:
    """A zero-cost black :class:`CameraImage` (a read-only broadcast view, no pixel memory).

    For stages that do not look at pixels (a replay source) when only the calibration and the
    time of a frame are known.
    """
    pixels = np.broadcast_to(
        np.zeros((1, 1, 3), dtype=np.uint8), (calibration.height_px, calibration.width_px, 3)
    )
    return CameraImage(pixels, calibration, timestamp_ns)
