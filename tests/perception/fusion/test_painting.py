"""Point painting: crafted points and a real KITTI scan with its labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import objects_to_boxes
from drivestack.ingest.kitti_object import (
    png_size_wh,
    read_kitti_label,
    read_velodyne_bin,
)
from drivestack.kernels import points_in_boxes
from drivestack.perception.camera.calibration import kitti_camera_calibration
from drivestack.perception.fusion.painting import CAMERA_SEEN, paint_points, score_attribute
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from tests.perception.fusion.test_association import front_camera

CAR, PED = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)


def test_points_get_the_score_of_the_boxes_their_pixels_fall_in() -> None:
    cal = front_camera()
    # pixel of (x, y, z) ego: u = 621 - 700 y / x, v = 187.5 - 700 (z - 1.5) / x
    pts = np.array(
        [
            [10.0, 0.0, 1.5],  # (621, 187.5): inside the car box and the pedestrian box
            [10.0, -1.0, 1.5],  # (691, 187.5): inside the car box only
            [10.0, 5.0, 1.5],  # (271, 187.5): in the image, in no box
            [-10.0, 0.0, 1.5],  # behind the camera
        ]
    )
    dets = Detections2D(
        np.array([[600.0, 150, 700, 220], [610.0, 100, 630, 200], [590.0, 150, 650, 210]]),
        cal.frame,
        score=np.array([0.9, 0.6, 0.95]),
        label=np.array([CAR, PED, CAR]),
    )
    cloud = PointCloud(pts, "ego", 0, {"intensity": np.arange(4.0)})
    painted = paint_points(cloud, dets, cal, [CAR, PED])
    np.testing.assert_allclose(painted.attributes[score_attribute(CAR)], [0.95, 0.9, 0.0, 0.0])
    np.testing.assert_allclose(painted.attributes[score_attribute(PED)], [0.6, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(painted.attributes[CAMERA_SEEN], [1, 1, 1, 0])
    np.testing.assert_array_equal(painted.attributes["intensity"], np.arange(4.0))
    assert score_attribute(CAR) == "score_car"
    # a second camera, turned 0.6 rad left, sees the third point at u = 717 px and paints it;
    # the first camera's scores stay
    left = front_camera("left", yaw_rad=0.6)
    left_dets = Detections2D(
        np.array([[690.0, 150, 740, 220]]), left.frame, score=np.array([0.5]), label=np.array([PED])
    )
    twice = paint_points(painted, left_dets, left, [CAR, PED])
    np.testing.assert_allclose(twice.attributes[score_attribute(PED)], [0.6, 0.0, 0.5, 0.0])
    np.testing.assert_allclose(twice.attributes[score_attribute(CAR)], [0.95, 0.9, 0.0, 0.0])
    np.testing.assert_array_equal(twice.attributes[CAMERA_SEEN], [1, 1, 1, 0])


def test_empty_detections_and_empty_cloud() -> None:
    cal = front_camera()
    none = Detections2D(np.zeros((0, 4)), cal.frame)
    painted = paint_points(PointCloud(np.array([[10.0, 0, 1.5]]), "ego", 0), none, cal, [CAR])
    np.testing.assert_array_equal(painted.attributes["score_car"], [0.0])
    empty = paint_points(PointCloud(np.zeros((0, 3)), "ego", 0), none, cal, [CAR])
    assert empty.attributes["score_car"].shape == (0,)
    with pytest.raises(ValueError, match="frame"):
        paint_points(
            PointCloud(np.zeros((0, 3)), "ego", 0),
            Detections2D(np.zeros((0, 4)), "camera_x"),
            cal,
            [CAR],
        )


@pytest.mark.data
def test_points_of_labelled_objects_are_painted_by_their_2d_labels(shared_data: Path) -> None:
    base = shared_data / "kitti_object" / "training"
    calib = read_kitti_calib(base / "calib" / "000001.txt")
    w, h = png_size_wh(base / "image_2" / "000001.png")
    cal = kitti_camera_calibration(calib, w, h)
    objects = read_kitti_label(base / "label_2" / "000001.txt")
    objects = objects.select(objects.type_name != "DontCare")
    boxes = objects_to_boxes(objects, calib)
    cloud = read_velodyne_bin(base / "velodyne" / "000001.bin")
    dets = Detections2D(
        objects.box2d_xyxy_px,
        cal.frame,
        score=np.linspace(0.5, 0.9, len(objects)),
        label=boxes.label,
    )
    painted = paint_points(
        cloud, dets, cal, [CAR, PED, int(ObjectClass.TRUCK), int(ObjectClass.CYCLIST)]
    )
    inside = np.asarray(points_in_boxes(cloud.xyz_m.astype(np.float64), boxes.to_array7()))
    checked = 0
    for j in range(len(boxes)):
        pts = inside[:, j]
        if pts.sum() < 20:
            continue
        attr = painted.attributes[score_attribute(int(boxes.label[j]))]
        assert np.mean(attr[pts] >= dets.score[j] - 1e-6) > 0.95
        checked += 1
    assert checked >= 1
    # most of the scan lies outside the camera's view and keeps score 0
    assert np.mean(painted.attributes[CAMERA_SEEN]) < 0.4
    assert np.mean(painted.attributes["score_car"] > 0) < 0.2
