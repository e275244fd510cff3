"""``read_kitti_object_frame`` fills ``cameras["image_02"]`` from ``image_2`` and ``P2``: the
pixels, a calibration that projects the labels onto their 2D boxes, the camera's mounting;
no image (or ``load_images=False``) leaves ``cameras`` empty."""

from __future__ import annotations

import shutil
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_object import (
    KITTI_CAMERA,
    png_size_wh,
    read_kitti_camera,
    read_kitti_label,
    read_kitti_object_frame,
)
from drivestack.perception.camera.calibration import read_image_rgb

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.data
def test_real_frames_carry_image_2_with_p2(shared_data: Path) -> None:
    root = shared_data / "kitti_object"
    base = root / "training"
    for i in range(6):
        frame = read_kitti_object_frame(root, i)
        assert list(frame.cameras) == [KITTI_CAMERA]
        image = frame.cameras[KITTI_CAMERA]
        png = base / f"image_2/{i:06d}.png"
        assert image.pixels.shape == (*png_size_wh(png)[::-1], 3)
        assert image.pixels.dtype == np.uint8
        np.testing.assert_array_equal(image.pixels, read_image_rgb(png))
        calib = read_kitti_calib(base / f"calib/{i:06d}.txt")
        np.testing.assert_array_equal(image.calibration.intrinsics, calib.P2[:, :3])
        assert image.frame == "camera_image_02" and not image.calibration.has_distortion
        np.testing.assert_allclose(
            frame.ego_from_sensor[KITTI_CAMERA].as_matrix(),
            image.calibration.camera_from_ego.inverse().as_matrix(),
        )


@pytest.mark.data
def test_real_label_centres_project_into_their_2d_boxes(shared_data: Path) -> None:
    root = shared_data / "kitti_object"
    hits = 0
    for i in range(6):
        frame = read_kitti_object_frame(root, i)
        cal = frame.cameras[KITTI_CAMERA].calibration
        objs = read_kitti_label(root / f"training/label_2/{i:06d}.txt")
        boxes = objs.box2d_xyxy_px[objs.type_name != "DontCare"]
        assert frame.labels is not None and len(frame.labels) == len(boxes)
        cam = cal.camera_from_ego.apply(frame.labels.center_m)
        uv = (cal.intrinsics @ (cam / cam[:, 2:]).T).T[:, :2]
        inside = (boxes[:, 0] <= uv[:, 0]) & (uv[:, 0] <= boxes[:, 2])
        inside &= (boxes[:, 1] <= uv[:, 1]) & (uv[:, 1] <= boxes[:, 3])
        assert np.all(inside), (i, uv, boxes)
        hits += int(inside.sum())
    assert hits == 10  # every non-DontCare object of the 6 frames


@pytest.mark.data
def test_no_image_or_load_images_false_leaves_cameras_empty(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "kitti_object/training"
    for sub, ext in (("velodyne", "bin"), ("calib", "txt"), ("label_2", "txt")):
        (tmp_path / "training" / sub).mkdir(parents=True)
        shutil.copy(src / sub / f"000000.{ext}", tmp_path / "training" / sub)
    frame = read_kitti_object_frame(tmp_path, "000000")
    assert dict(frame.cameras) == {} and set(frame.ego_from_sensor) == {"lidar"}
    assert frame.labels is not None and len(frame.lidar()) == 115384
    lidar_only = read_kitti_object_frame(shared_data / "kitti_object", 0, load_images=False)
    assert dict(lidar_only.cameras) == {} and set(lidar_only.ego_from_sensor) == {"lidar"}
    calib = read_kitti_calib(src / "calib/000000.txt")
    assert read_kitti_camera(tmp_path / "nope.png", calib) is None


def test_exported_simulated_frames_read_back_with_their_camera(tmp_path: Path) -> None:
    from drivestack.replay.log_reader import LogReader
    from drivestack.sim.export_kitti import export_kitti_object

    frames = list(islice(LogReader(REPO / "data/demo/drive.mcap").frames(), 2))
    assert export_kitti_object(frames, tmp_path) == 2
    for index, frame in enumerate(frames):
        back = read_kitti_object_frame(tmp_path, index).cameras[KITTI_CAMERA]
        sent = frame.cameras["front"]
        np.testing.assert_array_equal(back.pixels, sent.pixels)
        np.testing.assert_allclose(back.calibration.intrinsics, sent.calibration.intrinsics)
        # camera <- LiDAR read back equals camera <- ego <- LiDAR of the simulated frame
        camera_from_lidar = sent.calibration.camera_from_ego @ frame.ego_from_sensor["top"]
        np.testing.assert_allclose(
            back.calibration.camera_from_ego.as_matrix(),
            camera_from_lidar.as_matrix(),
            atol=1e-9,
        )
