"""KITTI tracking ingestion: labels, detections, calib, seqmaps, poses, conversions, errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import (
    CAMERA_RECT_ZUP,
    boxes_to_objects,
    camera_rect_to_zup_array7,
    lidar_from_camera_zup,
    objects_to_boxes,
    project_boxes_to_image_xyxy,
    zup_array7_to_camera_rect,
)
from drivestack.ingest.kitti_tracking import (
    read_ab3dmot_detections,
    read_ego_poses,
    read_seqmap,
    read_tracking_labels,
    write_tracking_results,
)
from drivestack.structures.labels import ObjectClass

CALIB_OBJECT_STYLE = """P0: 7.2e+02 0 6.0e+02 0 0 7.2e+02 1.7e+02 0 0 0 1 0
P1: 7.2e+02 0 6.0e+02 -3.8e+02 0 7.2e+02 1.7e+02 0 0 0 1 0
P2: 7.215377e+02 0 6.095593e+02 4.485728e+01 0 7.215377e+02 1.72854e+02 2.163791e-01 0 0 1 2.745884e-03
P3: 7.2e+02 0 6.0e+02 -3.3e+02 0 7.2e+02 1.7e+02 2.1 0 0 1 2.7e-03
R0_rect: 0.9999239 0.00983776 -0.007445048 -0.009869795 0.9999421 -0.004278459 0.007402527 0.004351614 0.9999631
Tr_velo_to_cam: 0.007533745 -0.9999714 -0.000616602 -0.004069766 0.01480249 0.0007280733 -0.9998902 -0.07631618 0.9998621 0.00752379 0.01480755 -0.2717806
Tr_imu_to_velo: 1 0 0 -0.8 0 1 0 0.3 0 0 1 -0.8
"""


def tracking_style(text: str) -> str:
    return (
        text.replace("R0_rect:", "R_rect")
        .replace("Tr_velo_to_cam:", "Tr_velo_cam")
        .replace("Tr_imu_to_velo:", "Tr_imu_velo")
    )


def test_calib_accepts_both_key_spellings(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(CALIB_OBJECT_STYLE)
    b.write_text(tracking_style(CALIB_OBJECT_STYLE))
    ca, cb = read_kitti_calib(a), read_kitti_calib(b)
    np.testing.assert_array_equal(ca.R0_rect, cb.R0_rect)
    np.testing.assert_array_equal(ca.Tr_velo_to_cam, cb.Tr_velo_to_cam)
    assert cb.Tr_imu_to_velo is not None and ca.P2[0, 3] == pytest.approx(44.85728)
    rot = ca.camera_rect_from_lidar().rotation
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)


def test_calib_errors_name_file_line_and_key(tmp_path: Path) -> None:
    p = tmp_path / "c.txt"
    p.write_text(CALIB_OBJECT_STYLE.replace("R0_rect: 0.9999239", "R0_rect: 0.99x"))
    with pytest.raises(DataError, match=r"c\.txt: line 5: field R0_rect"):
        read_kitti_calib(p)
    p.write_text(
        "\n".join(line for line in CALIB_OBJECT_STYLE.splitlines() if not line.startswith("P2"))
    )
    with pytest.raises(DataError, match="missing calibration key P2"):
        read_kitti_calib(p)
    with pytest.raises(DataError, match="cannot read"):
        read_kitti_calib(tmp_path / "missing.txt")


LABEL = "0 3 Car 0 1 -1.79 296.74 161.75 455.23 292.00 2.00 1.82 4.43 -4.55 1.86 13.41 -2.11\n"


def test_label_and_result_files(tmp_path: Path) -> None:
    p = tmp_path / "0000.txt"
    p.write_text(LABEL + LABEL.replace("0 3 Car", "1 -1 DontCare"))
    o = read_tracking_labels(p)
    assert len(o) == 2 and o.type_name.tolist() == ["Car", "DontCare"]
    assert o.track_id.tolist() == [3, -1] and np.isnan(o.score).all()
    np.testing.assert_allclose(o.hwl_m[0], [2.0, 1.82, 4.43])
    assert o.object_classes()[0] == ObjectClass.CAR
    out = tmp_path / "res" / "0000.txt"
    write_tracking_results(out, replace(o.select([0]), score=np.array([2.5])))
    back = read_tracking_labels(out)
    assert back.score.tolist() == [2.5] and back.type_name.tolist() == ["Car"]
    np.testing.assert_allclose(back.location_m, o.location_m[:1])


def test_malformed_label_line_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "0001.txt"
    p.write_text(LABEL + LABEL.replace("13.41", "abc"))
    with pytest.raises(DataError, match=r"0001\.txt: line 2: field z: not a number"):
        read_tracking_labels(p)
    p.write_text(LABEL + "0 1 Car 0 0\n")
    with pytest.raises(
        DataError, match=r"line 2: expected 17 or 18 columns \(the last a score\), got 5"
    ):
        read_tracking_labels(p)


def test_missing_file_is_an_error_and_empty_file_is_zero_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_ab3dmot_detections(tmp_path / "0002.txt")
    (tmp_path / "0002.txt").write_text("")
    assert len(read_ab3dmot_detections(tmp_path / "0002.txt")) == 0
    assert len(read_tracking_labels(tmp_path / "0002.txt")) == 0


def test_detection_file_errors(tmp_path: Path) -> None:
    p = tmp_path / "d.txt"
    good = "0,2,786.7,180.1,1241.0,374.0,12.2,1.52,1.68,4.45,2.93,1.60,6.42,-1.58,-2.01\n"
    p.write_text(good + good.replace(",2,", ",7,", 1))
    with pytest.raises(DataError, match=r"line 2: field type_id: unknown type_id 7"):
        read_ab3dmot_detections(p)
    p.write_text(good + "0,2,1\n")
    with pytest.raises(DataError, match=r"line 2: expected 15"):
        read_ab3dmot_detections(p)


def test_camera_zup_round_trip() -> None:
    rng = np.random.default_rng(0)
    loc = rng.uniform(-20, 20, (50, 3))
    hwl = rng.uniform(0.5, 5, (50, 3))
    ry = rng.uniform(-np.pi, np.pi, 50)
    arr = camera_rect_to_zup_array7(loc, hwl, ry)
    # ry = 0 faces camera +x = zup -y: yaw -pi/2; the box top is at y_cam - h
    a0 = camera_rect_to_zup_array7([[1.0, 2.0, 10.0]], [[1.5, 1.6, 4.0]], [0.0])[0]
    np.testing.assert_allclose(a0, [10.0, -1.0, -1.25, 4.0, 1.6, 1.5, -np.pi / 2])
    loc2, hwl2, ry2 = zup_array7_to_camera_rect(arr)
    np.testing.assert_allclose(loc2, loc, atol=1e-12)
    np.testing.assert_allclose(hwl2, hwl)
    np.testing.assert_allclose(np.cos(ry2 - ry), 1.0, atol=1e-12)


@pytest.mark.data
def test_real_sequence_files(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    seqmap = read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.training")
    assert len(seqmap) == 21 and seqmap[0].name == "0000" and seqmap[0].n_frames == 154
    labels = read_tracking_labels(root / "training" / "label_02" / "0000.txt")
    assert labels.frame.max() + 1 == seqmap[0].n_frames
    poses = read_ego_poses(root / "training" / "ego_poses_orbslam3_stereo" / "0000.txt")
    assert poses.shape == (154, 4, 4)
    np.testing.assert_allclose(poses[0], np.eye(4), atol=1e-9)
    calib = read_kitti_calib(root / "training" / "calib" / "0000.txt")
    dets = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / "0000.txt"
    )
    boxes = objects_to_boxes(dets, calib)
    assert boxes.frame == "lidar" and len(boxes) == len(dets)
    # LiDAR frame: cars ahead are at positive x, boxes sit near the ground (~-1.7 m below the sensor)
    assert np.median(boxes.center_m[:, 0]) > 0
    assert -2.5 < np.median(boxes.center_m[:, 2] - boxes.size_m[:, 2] / 2) < -1.0
    # back to camera: location recovered through the (orthonormalised) calibration
    zup = boxes.transformed(lidar_from_camera_zup(calib).inverse(), CAMERA_RECT_ZUP)
    back = boxes_to_objects(zup, None, box2d_xyxy_px=dets.box2d_xyxy_px)
    np.testing.assert_allclose(back.location_m, dets.location_m, atol=2e-3)
    assert set(back.type_name) == {"Car"}
    np.testing.assert_array_equal(back.score, dets.score)
    # both ways from camera to LiDAR keep the box: heading mapped (calib) or z-up boxes moved
    moved = objects_to_boxes(dets, None).transformed(lidar_from_camera_zup(calib), "lidar")
    np.testing.assert_allclose(moved.center_m, boxes.center_m, atol=1e-9)
    assert np.abs(np.sin(moved.yaw_rad - boxes.yaw_rad)).max() < 0.02
    # projecting the 3D boxes reproduces the detector's image boxes roughly (same camera)
    proj = project_boxes_to_image_xyxy(
        objects_to_boxes(dets.select(np.arange(50)), None), calib.P2, image_edge_px=(1241, 374)
    )
    assert np.median(np.abs(proj - dets.box2d_xyxy_px[:50])) < 15.0


def test_odometry_calib_with_tr_key_reads(shared_data):
    import numpy as np

    from drivestack.ingest.kitti_calib import read_kitti_calib

    calib = read_kitti_calib(shared_data / "kitti_odometry_00" / "calib.txt")
    np.testing.assert_array_equal(calib.R0_rect, np.eye(3))
    assert calib.Tr_velo_to_cam.shape == (3, 4) and calib.P2.shape == (3, 4)
    # the LiDAR looks along the camera's optical axis: lidar +x maps to camera +z
    assert calib.camera_rect_from_lidar().rotate([1.0, 0.0, 0.0])[2] > 0.99


def test_split_seqmaps_train_is_training_minus_val(shared_data: Path) -> None:
    from drivestack.ingest.kitti_tracking import read_split_seqmap

    root = shared_data / "kitti_tracking"
    names = {s: [e.name for e in read_split_seqmap(root, s)] for s in ("train", "val", "training")}
    assert len(names["training"]) == 21 and len(names["val"]) == 11 and len(names["train"]) == 10
    assert sorted(names["train"] + names["val"]) == sorted(names["training"])
    with pytest.raises(ValueError, match="unknown KITTI tracking split 'test'"):
        read_split_seqmap(root, "test")
