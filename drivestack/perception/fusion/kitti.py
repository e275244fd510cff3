"""Camera evidence for KITTI tracking sequences: RRC 2D detections replayed into image_02.

:func:`rrc_camera_source` builds the ``camera_source`` of a
:class:`~drivestack.perception.fusion.fused_tracking.FusedTracker` for one sequence: frame
``timestamp_ns // 100 ms`` of the RRC files, in the image_02 camera of the sequence's
calibration (image size from :func:`kitti_sequence_image_size_wh`), 3D boxes in the LiDAR frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.perception.camera.calibration import (
    kitti_camera_calibration,
    kitti_sequence_image_size_wh,
)
from drivestack.perception.camera.replay import (
    KITTI_FRAME_PERIOD_NS,
    ReplayCameraDetector,
    read_2d_detections,
)
from drivestack.perception.camera.stage import blank_image
from drivestack.perception.fusion.fused_tracking import CameraFrame
from drivestack.structures.labels import ObjectClass

CAMERA = "image_02"
#: the classes whose ``<rrc_root>/<Class>/`` folders count as the camera's reports
CAMERA_CLASSES = ("Car", "Pedestrian", "Cyclist")


def rrc_camera_source(
    rrc_root: str | Path,
    sequence: str,
    calib: KittiCalib,
    classes: Sequence[str] = ("Car", "Pedestrian"),
    *,
    min_score: float = 0.0,
    n_frames: int | None = None,
    image_dir: str | Path | None = None,
) -> Callable[[int], CameraFrame]:
    """``timestamp_ns -> CameraFrame`` of RRC detections ``<rrc_root>/<Class>/<sequence>.txt``.

    The frames' ``detected_labels`` are the classes with a folder under ``rrc_root`` (RRC ships
    Car and Pedestrian): a missing class folder means the camera does not detect that class,
    and a missing sequence file in a class folder reads as no detections. The published RRC
    folders hold a file per sequence (empty without detections), so the fused KITTI
    evaluation requires the folder and the file of every class and sequence it runs
    (:func:`~drivestack.perception.fusion.kitti_eval.check_camera_files`).

    The frames' ``n_reported`` counts the detections (``score >= min_score``) of every class
    folder of :data:`CAMERA_CLASSES` under ``rrc_root``, not only of ``classes``: a frame with
    cars but no pedestrian is a camera that worked and saw no pedestrian (unconfirmed
    pedestrian boxes are penalised), a frame without any detection one that reported nothing
    (see :class:`CameraFrame`). ``n_frames``: the sequence's frame count (rows past it refused).
    ``image_dir``: the sequence's ``image_02/<sequence>`` folder; when it holds PNGs, their size
    must agree with the calibration's recording day
    (:func:`~drivestack.perception.camera.calibration.kitti_sequence_image_size_wh`).

    Raises:
        DataError: malformed detection rows, rows past ``n_frames`` or boxes outside the image
            (at the first call); a calibration of another recording day than the images.
    """
    calibration = kitti_camera_calibration(calib, *kitti_sequence_image_size_wh(calib, image_dir))
    replay = ReplayCameraDetector.rrc_kitti(
        rrc_root, sequence, classes, min_score=min_score, n_frames=n_frames
    )
    root = Path(rrc_root)
    folders = sorted(name for name in {*CAMERA_CLASSES, *classes} if (root / name).is_dir())
    detected = frozenset(int(ObjectClass.from_name(name)) for name in classes if name in folders)
    read = dict(zip(classes, replay.rows, strict=True))  # (each file is read once)
    reported_frames = []
    for name in folders:
        if name in read:
            rows = read[name]
        else:
            file = root / name / f"{sequence}.txt"
            rows = read_2d_detections(file, int(ObjectClass.from_name(name)), n_frames=n_frames)
        reported_frames.append(rows.frame[rows.score >= min_score])
    frames = np.concatenate(reported_frames) if reported_frames else np.zeros(0, dtype=np.int64)
    counts = np.bincount(frames) if frames.size else np.zeros(0, dtype=np.int64)

    def source(timestamp_ns: int) -> CameraFrame:
        dets = replay.step(blank_image(calibration, timestamp_ns))
        frame = timestamp_ns // KITTI_FRAME_PERIOD_NS
        n = int(counts[frame]) if 0 <= frame < counts.shape[0] else 0
        return CameraFrame({CAMERA: dets}, {CAMERA: calibration}, detected, {CAMERA: n})

    return source
