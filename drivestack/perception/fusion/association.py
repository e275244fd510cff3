"""Association of 3D boxes (detections or tracks) with a camera's 2D detections.

A 3D box is projected into the image with :func:`drivestack.kernels.project_boxes_to_image`
(near-plane cut, clipped to the image); its affinity to a 2D detection is the 2D IoU of the
projected box and the detection (:func:`drivestack.eval.detection.kitti.image_box_overlap`),
0 for boxes not visible in the image and (class-aware) for different labels; an UNKNOWN
2D detection (no label) may match a box of any class. ``1 - IoU`` is the cost a tracker
minimises; matching reuses :func:`drivestack.tracking.association.match`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.eval.detection.kitti import image_box_overlap
from drivestack.kernels import project_boxes_to_image
from drivestack.structures._checks import as_array, check_number, check_shape
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass


def check_camera_inputs(
    where: str, detections: object, calibration: object, argument: str = "detections"
) -> None:
    """``TypeError`` naming ``where`` and the argument unless ``detections`` is a
    :class:`Detections2D` and ``calibration`` a :class:`CameraCalibration`; ``ValueError``
    when the detections are not in the calibration's camera frame."""
    if not isinstance(detections, Detections2D):
        raise TypeError(
            f"{where}: {argument} must be Detections2D, got {type(detections).__name__}"
        )
    if not isinstance(calibration, CameraCalibration):
        raise TypeError(
            f"{where}: calibration must be a CameraCalibration, got {type(calibration).__name__}"
        )
    if detections.frame != calibration.frame:
        raise ValueError(
            f"detections are in frame {detections.frame!r} but the calibration is of {calibration.frame!r}"
        )


def _boxes7(boxes7: object, where: str) -> np.ndarray:
    """``boxes7`` as an ``(N, 7)`` float64 array (an empty input of any shape: no boxes, a
    ``(7,)`` row: one box); ``ValueError`` naming ``where`` otherwise."""
    arr = as_array(boxes7, where, (None, 7), np.float64)
    if arr.size == 0 or arr.shape == (7,):
        arr = arr.reshape(-1, 7)
    return check_shape(arr, where, (None, 7))


def project_to_image(
    boxes7: np.ndarray, calibration: CameraCalibration, ego_from_boxes: SE3 | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Image boxes of ``(N, 7)`` 3D boxes: ``(xyxy_px (N, 4), visible (N,))``.

    ``boxes7`` are in the ego frame of ``calibration.camera_from_ego`` unless
    ``ego_from_boxes`` maps their frame into it.
    """
    boxes = _boxes7(boxes7, "project_to_image boxes7")
    camera_from_boxes = calibration.camera_from_ego
    if ego_from_boxes is not None:
        camera_from_boxes = camera_from_boxes @ ego_from_boxes
    xyxy, visible = project_boxes_to_image(
        boxes,
        camera_from_boxes.as_matrix(),
        calibration.intrinsics,
        calibration.width_px,
        calibration.height_px,
        calibration.distortion if calibration.has_distortion else None,
    )
    return np.asarray(xyxy), np.asarray(visible)


def camera_affinity(
    boxes7: np.ndarray,
    labels: np.ndarray | None,
    detections: Detections2D,
    calibration: CameraCalibration,
    ego_from_boxes: SE3 | None = None,
) -> np.ndarray:
    """``(N, M)`` IoU of the projected ``(N, 7)`` boxes with the ``M`` detections.

    Zero for a box not visible in the image and, when ``labels (N,)`` is given, for pairs of
    different class; a detection labelled ``ObjectClass.UNKNOWN`` (a :class:`Detections2D`
    built without labels) gives no opinion on the class and pairs with a box of any. The
    tracker's cost is ``1 - camera_affinity``.

    Raises:
        TypeError: ``detections`` or ``calibration`` of another type.
        ValueError: detections not in the calibration's camera frame, ``boxes7`` not
            ``(N, 7)``, or ``labels`` not ``(N,)`` integers.
    """
    check_camera_inputs("camera_affinity", detections, calibration)
    boxes = _boxes7(boxes7, "camera_affinity boxes7")
    n, m = boxes.shape[0], len(detections)
    if labels is not None:
        labels = check_shape(
            as_array(labels, "camera_affinity labels", (n,)), "camera_affinity labels", (n,)
        )
        if labels.size and labels.dtype.kind not in "iu":
            raise ValueError(
                f"camera_affinity labels must be integer class ids, got {labels.dtype}"
            )
    if n == 0 or m == 0:
        return np.zeros((n, m))
    xyxy, visible = project_to_image(boxes, calibration, ego_from_boxes)
    iou = image_box_overlap(xyxy, detections.box_xyxy_px)
    iou[~visible] = 0.0
    if labels is not None:  # an UNKNOWN detection (no label given) matches any class
        labelled = detections.label != int(ObjectClass.UNKNOWN)  # (M,)
        iou[(np.asarray(labels)[:, None] != detections.label[None, :]) & labelled[None, :]] = 0.0
    return iou


@dataclass(frozen=True)
class CameraMatches:
    """3D box -> 2D detection matches over all cameras (each box matched at most once).

    Attributes:
        box_index: ``(K,)`` int64 rows of the 3D boxes; camera: ``(K,)`` str camera names;
        detection_index: ``(K,)`` int64 rows of that camera's detections; iou: ``(K,)``.
    """

    box_index: np.ndarray
    camera: np.ndarray
    detection_index: np.ndarray
    iou: np.ndarray

    def matched_boxes(self, n_boxes: int) -> np.ndarray:
        """``(n_boxes,)`` bool: the box has a camera match."""
        out = np.zeros(n_boxes, dtype=bool)
        out[self.box_index] = True
        return out

    def matched_detections(self, camera: str, n_detections: int) -> np.ndarray:
        """``(n_detections,)`` bool: the detection of ``camera`` has a 3D match."""
        out = np.zeros(n_detections, dtype=bool)
        out[self.detection_index[self.camera == camera]] = True
        return out


def associate_with_cameras(
    boxes7: np.ndarray,
    labels: np.ndarray | None,
    detections: Mapping[str, Detections2D],
    calibrations: Mapping[str, CameraCalibration],
    iou_threshold: float = 0.3,
    *,
    ego_from_boxes: SE3 | None = None,
    method: str = "hungarian",
) -> CameraMatches:
    """Match ``(N, 7)`` 3D boxes with each camera's detections by projected-box IoU.

    Per camera, pairs are matched by ``method`` (maximum total IoU, see
    :func:`drivestack.tracking.association.match`) and kept when IoU >= ``iou_threshold``; a box
    seen by several cameras keeps its highest-IoU match (ties: the camera named first).

    Raises:
        TypeError: a camera's detections or calibration of another type.
        ValueError: ``iou_threshold`` not a number in [0, 1], a camera without a calibration,
            or inputs :func:`camera_affinity` refuses.
    """
    from drivestack.tracking.association import match

    check_number("associate_with_cameras iou_threshold", iou_threshold, at_least=0.0, at_most=1.0)
    boxes = _boxes7(boxes7, "associate_with_cameras boxes7")
    n = boxes.shape[0]
    best_iou = np.full(n, -1.0)
    best_cam = np.full(n, "", dtype=object)
    best_det = np.full(n, -1, dtype=np.int64)
    for name, dets in detections.items():
        if name not in calibrations:
            raise ValueError(f"no calibration for camera {name!r}; have {sorted(calibrations)}")
        aff = camera_affinity(boxes, labels, dets, calibrations[name], ego_from_boxes)
        rows, cols = match(aff, iou_threshold, method)
        rows, cols = rows[aff[rows, cols] > 0], cols[aff[rows, cols] > 0]
        better = aff[rows, cols] > best_iou[rows]
        rows, cols = rows[better], cols[better]
        best_iou[rows], best_cam[rows], best_det[rows] = aff[rows, cols], name, cols
    hit = np.flatnonzero(best_det >= 0)
    return CameraMatches(
        box_index=hit.astype(np.int64),
        camera=best_cam[hit].astype(str),
        detection_index=best_det[hit],
        iou=best_iou[hit],
    )
