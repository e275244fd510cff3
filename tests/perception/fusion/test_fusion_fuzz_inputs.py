"""Fusion inputs found by a bad-input campaign: wrong types, shapes and thresholds at the
public entry points are named instead of failing deep inside (AttributeError, IndexError)
or silently matching nothing."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.perception.fusion.association import (
    associate_with_cameras,
    camera_affinity,
    project_to_image,
)
from drivestack.perception.fusion.painting import paint_points
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from tests.perception.fusion.test_association import front_camera

CAR = int(ObjectClass.CAR)
CAM = front_camera()
BOXES = np.array([[15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0], [-15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]])
DETS = Detections2D([[600.0, 150.0, 700.0, 220.0]], CAM.frame, score=[0.9], label=[CAR])
CLOUD = PointCloud(np.array([[10.0, 0.0, 1.5], [-10.0, 0.0, 1.5]]), "ego", 0)


def test_paint_points_names_a_missing_calibration_or_detections() -> None:
    with pytest.raises(TypeError, match="paint_points: calibration must be a CameraCalibration"):
        paint_points(CLOUD, DETS, None, [CAR])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="paint_points: detections must be Detections2D"):
        paint_points(CLOUD, None, CAM, [CAR])  # type: ignore[arg-type]


@pytest.mark.parametrize("label", [99, "car"])
def test_paint_points_names_a_class_that_is_no_object_class(label: object) -> None:
    with pytest.raises(ValueError, match=r"paint_points classes\[1\]: class .* is no ObjectClass"):
        paint_points(CLOUD, DETS, CAM, [CAR, label])  # type: ignore[list-item]


def test_camera_affinity_names_labels_of_another_length() -> None:
    """It was an IndexError from a boolean mask of the wrong length."""
    with pytest.raises(ValueError, match=r"camera_affinity labels must have shape \(2,\)"):
        camera_affinity(BOXES, np.array([CAR]), DETS, CAM)
    assert camera_affinity(BOXES, np.array([CAR, CAR]), DETS, CAM).shape == (2, 1)


def test_boxes_of_another_shape_are_named() -> None:
    """'cannot reshape array of size 12 into shape (7)' named no argument."""
    with pytest.raises(ValueError, match=r"project_to_image boxes7 must have shape \(N, 7\)"):
        project_to_image(np.zeros((2, 6)), CAM)
    with pytest.raises(ValueError, match=r"camera_affinity boxes7 must have shape \(N, 7\)"):
        camera_affinity(np.zeros((2, 6)), None, DETS, CAM)
    assert project_to_image(BOXES[0], CAM)[0].shape == (1, 4)  # one (7,) box still works


def test_associate_refuses_a_calibration_of_another_type_and_a_bad_threshold() -> None:
    with pytest.raises(TypeError, match="calibration must be a CameraCalibration, got str"):
        associate_with_cameras(BOXES, None, {"front": DETS}, {"front": "front"})  # type: ignore[dict-item]
    for threshold in (float("nan"), 2.0):  # NaN silently matched nothing
        with pytest.raises(ValueError, match="associate_with_cameras iou_threshold"):
            associate_with_cameras(BOXES, None, {"front": DETS}, {"front": CAM}, threshold)
    valid = associate_with_cameras(BOXES, None, {"front": DETS}, {"front": CAM}, 0.1)
    assert valid.box_index.tolist() == [0]
