"""Camera evidence for KITTI tracking sequences: RRC 2D detections replayed into image_02.

:func:`rrc_camera_source` builds the ``camera_source`` of a
:class:`~drivestack.perception.fusion.fused_tracking.FusedTracker` for one sequence: frame
``timestamp_ns // 100 ms`` of the RRC files, in the image_02 camera of the sequence's
calibration (image size from :func:`kitti_image_size_wh`), 3D boxes in the LiDAR frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.perception.camera.calibration import kitti_camera_calibration, kitti_image_size_wh
from drivestack.perception.camera.replay import ReplayCameraDetector
from drivestack.perception.camera.stage import blank_image
from drivestack.perception.fusion.fused_tracking import CameraFrame
from drivestack.structures.labels import ObjectClass

CAMERA = "image_02"


def rrc_camera_source(
    rrc_root: str | Path,
    sequence: str,
    calib: KittiCalib,
    classes: Sequence[str] = ("Car", "Pedestrian"),
    *,
    min_score: float = 0.0,
) -> Callable[[int], CameraFrame]:
    """``timestamp_ns -> CameraFrame`` of RRC detections ``<rrc_root>/<Class>/<sequence>.txt``.

    The frames' ``detected_labels`` are the classes with a folder under ``rrc_root`` (RRC ships
    Car and Pedestrian): a missing class folder means the camera does not detect that class,
    and a missing sequence file in a class folder reads as no detections. The published RRC
    folders hold a file per sequence (empty without detections), so the fused KITTI
    evaluation requires the folder and the file of every class and sequence it runs
    (:func:`~drivestack.perception.fusion.kitti_eval.check_camera_files`).

    Raises:
        DataError: malformed detection rows or boxes outside the image (at the first call).
    """
    calibration = kitti_camera_calibration(calib, *kitti_image_size_wh(calib))
    replay = ReplayCameraDetector.rrc_kitti(rrc_root, sequence, classes, min_score=min_score)
    detected = frozenset(
        int(ObjectClass.from_name(name)) for name in classes if (Path(rrc_root) / name).is_dir()
    )

    def source(timestamp_ns: int) -> CameraFrame:
        dets = replay.step(blank_image(calibration, timestamp_ns))
        return CameraFrame({CAMERA: dets}, {CAMERA: calibration}, detected)

    return source
