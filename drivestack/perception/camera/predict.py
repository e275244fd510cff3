"""Run a camera detector over a KITTI-layout image folder and write KITTI 2D result files.

One result file per image, ``<out>/<stem>.txt`` (empty when nothing was detected), one row per
detection in the devkit's 2D-only form (:func:`~drivestack.ingest.kitti_format.objects_2d_only`)::

    Car -1 -1 -10 x1 y1 x2 y2 -1 -1 -1 -1000 -1000 -1000 -10 score

so that ``drivestack eval detection2d --labels <data>/label_2 --results <out>`` scores them.
The detector looks at pixels only: each image gets a nominal pinhole calibration of its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_format import CLASS_TO_KITTI, KittiObjects, objects_2d_only
from drivestack.ingest.kitti_object import write_kitti_label
from drivestack.perception.camera.calibration import read_image_rgb
from drivestack.perception.camera.stage import CameraDetectorStage
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass

IMAGE_CAMERA = "image_02"


@dataclass(frozen=True)
class PredictSummary:
    """What :func:`predict_kitti_folder` did: images read, rows written, where."""

    n_images: int
    n_detections: int
    image_dir: Path
    out_dir: Path


def find_image_dir(root: str | Path) -> Path:
    """The folder of ``*.png`` images of ``root``: ``root/image_2``, ``root/training/image_2``
    (a KITTI root or a simulator export) or ``root`` itself.

    Raises:
        DataError: none of these holds a PNG image (naming ``root``).
    """
    base = Path(root)
    for folder in (base / "image_2", base / "training" / "image_2", base):
        if folder.is_dir() and any(folder.glob("*.png")):
            return folder
    if not base.is_dir():
        raise DataError("no such folder", path=str(base))
    raise DataError("no *.png images here, in image_2/ or in training/image_2/", path=str(base))


def nominal_calibration(width_px: int, height_px: int) -> CameraCalibration:
    """A pinhole :class:`CameraCalibration` of the image size (focal length = width, centred
    principal point, identity extrinsic): for stages that look at pixels only."""
    k = np.array([[width_px, 0.0, width_px / 2], [0.0, width_px, height_px / 2], [0.0, 0.0, 1.0]])
    return CameraCalibration(
        IMAGE_CAMERA, k, width_px, height_px, SE3.identity(), f"camera_{IMAGE_CAMERA}"
    )


def detections_to_objects(dets: Detections2D) -> KittiObjects:
    """2D-only KITTI rows of ``dets`` (types per :data:`CLASS_TO_KITTI`, else ``Misc``)."""
    names = [CLASS_TO_KITTI.get(ObjectClass(int(c)), "Misc") for c in dets.label]
    return objects_2d_only(names, dets.box_xyxy_px, dets.score)


def predict_kitti_folder(
    detector: CameraDetectorStage,
    images: str | Path,
    out_dir: str | Path,
    *,
    progress: bool = True,
) -> PredictSummary:
    """Detect on every ``*.png`` of :func:`find_image_dir` ``(images)`` in name order and write
    ``out_dir/<stem>.txt`` for each (``out_dir`` is created; files of the same name are
    replaced). Image ``i`` gets timestamp ``i`` ns.

    Raises:
        DataError: no images, or an image that cannot be decoded or that the detector refuses
            (e.g. too narrow for its resize), naming the file.
    """
    from drivestack.core.progress import progress as progress_bar

    image_dir = find_image_dir(images)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(image_dir.glob("*.png"))
    detector.reset()
    n_rows = 0
    for i, path in enumerate(
        progress_bar(paths, desc="detect", unit="image", disable=not progress)
    ):
        pixels = read_image_rgb(path)
        calibration = nominal_calibration(pixels.shape[1], pixels.shape[0])
        try:
            detections = detector.step(CameraImage(pixels, calibration, i))
        except ValueError as exc:  # an image the network cannot take (too narrow, ...)
            raise DataError(str(exc), path=str(path), field="pixels") from None
        objects = detections_to_objects(detections)
        write_kitti_label(out / f"{path.stem}.txt", objects)
        n_rows += len(objects)
    return PredictSummary(len(paths), n_rows, image_dir, out)
