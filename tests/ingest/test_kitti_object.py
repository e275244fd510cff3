"""KITTI object reader/writer: hand-computed conversions, bad input, and the real sample frames."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.core.transforms import wrap_angle
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import boxes_to_objects, objects_to_boxes
from drivestack.ingest.kitti_object import (
    png_size_wh,
    read_kitti_label,
    read_kitti_object_frame,
    read_velodyne_bin,
    read_velodyne_pcd,
    write_kitti_label,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.labels import ObjectClass
from tests.ingest._helpers import IDEAL_CALIB as IDEAL

LABEL = "Car 0.10 1 0.50 500.00 150.00 600.00 250.00 2.00 1.80 4.00 1.00 2.00 10.00 0.00\nDontCare -1 -1 -10 1 2 3 4 -1 -1 -1 -1000 -1000 -1000 -10\n"


def test_label_to_lidar_box_hand_computed(tmp_path: Path) -> None:
    path = tmp_path / "000000.txt"
    path.write_text(LABEL)
    objs = read_kitti_label(path)
    assert list(objs.type_name) == ["Car", "DontCare"] and objs.occlusion[0] == 1
    boxes = objects_to_boxes(objs, IDEAL)
    assert len(boxes) == 1 and boxes.label[0] == ObjectClass.CAR
    # bottom centre (1, 2, 10) cam, h = 2 -> centre (1, 1, 10) cam -> (10, -1, -1) LiDAR
    np.testing.assert_allclose(boxes.center_m[0], [10.0, -1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(boxes.size_m[0], [4.0, 1.8, 2.0])
    # ry = 0 points along camera +x = LiDAR -y
    assert boxes.yaw_rad[0] == pytest.approx(-np.pi / 2)


def test_round_trip_and_writer(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text(LABEL)
    objs = read_kitti_label(path)
    back = boxes_to_objects(objects_to_boxes(objs, IDEAL), IDEAL, image_edge_px=(1200, 360))
    np.testing.assert_allclose(back.location_m[0], objs.location_m[0], atol=1e-9)
    np.testing.assert_allclose(back.hwl_m[0], objs.hwl_m[0], atol=1e-9)
    assert back.rotation_y_rad[0] == pytest.approx(0.0, abs=1e-9)
    assert back.alpha_rad[0] == pytest.approx(-np.arctan2(1.0, 10.0))
    # 2D box: length along camera x -> corners x in [-1, 3] m, depth z in [9.1, 10.9] m
    assert back.box2d_xyxy_px[0, 0] == pytest.approx(600 + 700 * -1 / 9.1)
    assert back.box2d_xyxy_px[0, 2] == pytest.approx(600 + 700 * 3 / 9.1)
    out = tmp_path / "out" / "000000.txt"
    write_kitti_label(out, back)
    again = read_kitti_label(out)
    np.testing.assert_allclose(again.location_m, back.location_m, atol=1e-6)
    assert again.score[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("Car 0 0 0 1 2 3 4 1 1 1 1 1\n", None),  # column count: the line, not a field
        ("Car 0 0 0 1 2 3 4 1 abc 1 1 1 1 0\n", "w"),
        ("Car 0 0 0 1 2 3 4 1 1 1 nan 1 1 0\n", "x"),
        ("Car 0 0 0 1 2 3 4 1 -1 1 1 1 1 0\n", "h w l"),
    ],
)
def test_bad_label_rows_name_line_and_field(tmp_path: Path, text: str, field: str | None) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("Car 0 0 0 1 2 3 4 1 1 1 1 1 1 0\n" + text)
    with pytest.raises(DataError) as err:
        read_kitti_label(path)
    assert err.value.record == "line 2" and err.value.field == field and str(path) in str(err.value)


def test_empty_label_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    assert len(objects_to_boxes(read_kitti_label(path), IDEAL)) == 0


def test_truncated_and_nan_scans(tmp_path: Path) -> None:
    pts = np.arange(40, dtype="<f4").reshape(10, 4)
    pts[:, 3] = 0.5  # a KITTI reflectance, in [0, 1]
    path = tmp_path / "scan.bin"
    path.write_bytes(pts.tobytes()[:-6])
    with pytest.raises(DataError, match="multiple of 16"):
        read_velodyne_bin(path)
    pts[3, 2] = np.inf
    path.write_bytes(pts.tobytes())
    with pytest.raises(DataError) as err:
        read_velodyne_bin(path)
    assert err.value.record == "point 3" and err.value.field == "z"
    assert len(read_velodyne_bin(path, drop_nonfinite=True)) == 9
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert len(read_velodyne_bin(empty)) == 0


def test_missing_calibration_is_a_data_error(tmp_path: Path) -> None:
    for sub in ("velodyne", "label_2"):
        (tmp_path / "training" / sub).mkdir(parents=True)
    (tmp_path / "training/velodyne/000000.bin").write_bytes(b"")
    with pytest.raises(DataError, match="calib"):
        read_kitti_object_frame(tmp_path, 0)


@pytest.mark.data
def test_real_object_frames(shared_data: Path) -> None:
    root = shared_data / "kitti_object"
    expected_points = [115384, 120268, 126891, 113110, 115976, 125086]
    names: Counter[str] = Counter()
    for i, n in enumerate(expected_points):
        frame = read_kitti_object_frame(root, i)
        cloud, boxes = frame.lidar(), frame.labels
        assert len(cloud) == n and boxes is not None
        names.update(read_kitti_label(root / f"training/label_2/{i:06d}.txt").type_name.tolist())
        inside = points_in_boxes(cloud.xyz_m.astype(np.float64), boxes.to_array7()).sum(axis=0)
        assert np.all(inside >= 9), inside  # every labelled box holds LiDAR points
    assert names == Counter(
        {"DontCare": 15, "Car": 5, "Pedestrian": 2, "Truck": 1, "Cyclist": 1, "Misc": 1}
    )


@pytest.mark.data
def test_real_round_trip_matches_label_2d_boxes(shared_data: Path) -> None:
    base = shared_data / "kitti_object/training"
    for i in range(6):
        objs = read_kitti_label(base / f"label_2/{i:06d}.txt")
        calib = read_kitti_calib(base / f"calib/{i:06d}.txt")
        back = boxes_to_objects(
            objects_to_boxes(objs, calib),
            calib,
            image_edge_px=png_size_wh(base / f"image_2/{i:06d}.png"),
        )
        keep = objs.type_name != "DontCare"
        np.testing.assert_allclose(back.location_m, objs.location_m[keep], atol=1e-6)
        assert np.all(np.abs(wrap_angle(back.rotation_y_rad - objs.rotation_y_rad[keep])) < 1e-3)
        # projected 3D corners reproduce the annotated 2D boxes to a few pixels
        assert np.all(np.abs(back.box2d_xyxy_px - objs.box2d_xyxy_px[keep]) < 12)


@pytest.mark.data
def test_real_tracking_pcd_scan(shared_data: Path) -> None:
    cloud = read_velodyne_pcd(
        shared_data / "kitti_tracking/training/velodyne_pcd_xz/0000/000153.pcd.xz"
    )
    assert 98_533 <= len(cloud) <= 124_123 and "intensity" in cloud.attributes


@pytest.mark.data
def test_tracking_scans_hold_their_labels(shared_data: Path) -> None:
    """Sequence 0000 labels put into the Velodyne frame land on the .pcd.xz scans (SOURCES 11:
    1 of the 711 boxes of the whole sequence is empty, none in frames 74-153)."""
    from drivestack.eval.detection.datasets import kitti_tracking_frames

    frames = list(kitti_tracking_frames(shared_data / "kitti_tracking", load_points=False))
    names = Counter(n for lf in frames for n in lf.native.type_name.tolist() if n != "DontCare")
    assert names == Counter({"Car": 243, "Van": 149, "Cyclist": 80, "Pedestrian": 16})
    for lf in frames[::8]:  # every 8th scan keeps the test short
        assert lf.frame.labels is not None
        cloud = read_velodyne_pcd(
            shared_data / f"kitti_tracking/training/velodyne_pcd_xz/0000/{lf.key}.pcd.xz"
        )
        xyz = cloud.xyz_m.astype(np.float64)
        inside = points_in_boxes(xyz, lf.frame.labels.to_array7()).sum(axis=0)
        assert np.all(inside > 0), (lf.key, inside)
