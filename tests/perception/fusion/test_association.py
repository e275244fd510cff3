"""Camera-LiDAR association by projected-box IoU: crafted cases and real KITTI labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import objects_to_boxes
from drivestack.ingest.kitti_tracking import read_tracking_labels
from drivestack.perception.camera.calibration import kitti_camera_calibration
from drivestack.perception.fusion.association import (
    associate_with_cameras,
    camera_affinity,
    project_to_image,
)
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass

CAR = int(ObjectClass.CAR)
# ego x forward, y left, z up -> camera x right, y down, z forward; camera 1.5 m above ground
R_CAM_EGO = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


def front_camera(name: str = "front", yaw_rad: float = 0.0) -> CameraCalibration:
    k = np.array([[700.0, 0.0, 621.0], [0.0, 700.0, 187.5], [0.0, 0.0, 1.0]])
    ego_from_cam_mount = SE3.from_xyz_yaw(np.array([0.0, 0.0, 1.5]), yaw_rad)
    camera_from_ego = SE3(R_CAM_EGO, np.zeros(3)) @ ego_from_cam_mount.inverse()
    return CameraCalibration(name, k, 1242, 375, camera_from_ego, f"camera_{name}")


BOXES = np.array(
    [
        [15.0, 2.0, 0.8, 4.0, 1.8, 1.6, 0.3],  # near, left of centre
        [40.0, -5.0, 0.8, 4.0, 1.8, 1.6, 0.0],  # far, right
        [-10.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0],  # behind the camera
    ]
)


def test_projection_of_a_box_matches_the_pinhole_model() -> None:
    cal = front_camera()
    xyxy, visible = project_to_image(BOXES, cal)
    np.testing.assert_array_equal(visible, [True, True, False])
    # the far box spans x in [38, 42] m, y in [-5.9, -4.1] m, z in [0, 1.6] m: its left edge is
    # the inner side seen at the far face, its bottom edge the ground at the near face
    u_left = 621.0 + 700.0 * 4.1 / 42.0
    v_bottom = 187.5 + 700.0 * 1.5 / 38.0
    assert xyxy[1, 0] == pytest.approx(u_left)
    assert xyxy[1, 3] == pytest.approx(v_bottom)


def test_a_box_and_its_projection_associate_and_a_far_mismatch_does_not() -> None:
    cal = front_camera()
    xyxy, _ = project_to_image(BOXES[:1], cal)
    dets = Detections2D(
        np.array([[1000.0, 40.0, 1100.0, 90.0], xyxy[0] + [2.0, -1.0, 3.0, 1.0]]),
        cal.frame,
        score=np.array([0.9, 0.8]),
        label=np.array([CAR, CAR]),
    )
    labels = np.full(3, CAR)
    aff = camera_affinity(BOXES, labels, dets, cal)
    assert aff.shape == (3, 2)
    assert aff[0, 1] > 0.9 and aff[0, 0] == 0.0
    assert np.all(aff[1] == 0.0) and np.all(aff[2] == 0.0)  # far box: no overlap; behind: invisible
    m = associate_with_cameras(BOXES, labels, {"front": dets}, {"front": cal}, iou_threshold=0.3)
    np.testing.assert_array_equal(m.box_index, [0])
    np.testing.assert_array_equal(m.detection_index, [1])
    np.testing.assert_array_equal(m.matched_boxes(3), [True, False, False])
    np.testing.assert_array_equal(m.matched_detections("front", 2), [False, True])
    # class-aware: a pedestrian detection on the car's projection does not match the car
    ped = Detections2D(xyxy, cal.frame, label=np.array([int(ObjectClass.PEDESTRIAN)]))
    assert camera_affinity(BOXES, labels, ped, cal)[0, 0] == 0.0
    assert camera_affinity(BOXES, None, ped, cal)[0, 0] == pytest.approx(1.0)


def test_best_camera_wins_and_frames_are_checked() -> None:
    front, left = front_camera("front"), front_camera("left", yaw_rad=0.6)
    box = BOXES[:1]
    exact = Detections2D(project_to_image(box, left)[0], left.frame, label=np.array([CAR]))
    xyxy_f = project_to_image(box, front)[0][0]
    loose = Detections2D(
        (xyxy_f + np.array([10.0, 5.0, 10.0, 5.0]))[None], front.frame, label=np.array([CAR])
    )
    m = associate_with_cameras(
        box, None, {"front": loose, "left": exact}, {"front": front, "left": left}
    )
    assert m.camera.tolist() == ["left"] and m.iou[0] == pytest.approx(1.0)
    with pytest.raises(
        ValueError, match="frame 'camera_left' but the calibration is of 'camera_front'"
    ):
        camera_affinity(box, None, exact, front)
    with pytest.raises(ValueError, match="no calibration for camera 'rear'"):
        associate_with_cameras(box, None, {"rear": exact}, {"front": front})


@pytest.mark.data
def test_kitti_label_boxes_associate_with_their_own_2d_boxes(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking" / "training"
    calib = read_kitti_calib(root / "calib" / "0001.txt")
    cal = kitti_camera_calibration(calib, 1242, 375)
    labels = read_tracking_labels(root / "label_02" / "0001.txt")
    labels = labels.select((labels.type_name != "DontCare") & (labels.occlusion <= 1))
    matched = total = 0
    for frame in range(0, 400, 20):
        objs = labels.select(labels.frame == frame)
        if len(objs) < 2:
            continue
        boxes = objects_to_boxes(objs, calib)
        # shuffle the detections so a correct result is not the identity by accident
        perm = np.random.default_rng(frame).permutation(len(objs))
        dets = Detections2D(objs.box2d_xyxy_px[perm], cal.frame, label=boxes.label[perm])
        m = associate_with_cameras(boxes.to_array7(), boxes.label, {"c": dets}, {"c": cal}, 0.5)
        matched += int(np.sum(perm[m.detection_index] == m.box_index))
        total += len(objs)
    assert total > 50
    assert matched >= 0.95 * total
