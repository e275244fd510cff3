"""Fusion rules pinned by value: camera-only coast scores, painting over cameras, stamps,
and the replayed detector's score floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.camera.replay import ReplayCameraDetector
from drivestack.perception.camera.stage import blank_image
from drivestack.perception.fusion.association import project_to_image
from drivestack.perception.fusion.fused_tracking import CameraFrame, FusedTracker, FusionConfig
from drivestack.perception.fusion.painting import CAMERA_SEEN, paint_points
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraCalibration
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.tracking.config import ClassTrackerConfig, LifecycleConfig, TrackerConfig
from drivestack.tracking.tracker import build_tracker
from tests.perception.fusion.test_association import front_camera

CAR = int(ObjectClass.CAR)
PERIOD_NS = 100_000_000
CAM = front_camera()
BOX = np.array([[15.0, 0.0, 0.8, 4.0, 1.8, 1.6, 0.0]])  # a parked car, 15 m ahead


def _camera(timestamp_ns: int) -> CameraFrame:
    xyxy, _ = project_to_image(BOX, CAM)
    dets = Detections2D(xyxy, CAM.frame, timestamp_ns, score=np.array([0.9]), label=np.array([CAR]))
    return CameraFrame({"front": dets}, {"front": CAM})


def test_camera_only_coast_score_drops_by_the_penalty_each_frame() -> None:
    life = LifecycleConfig(min_hits=3, max_age=1, output_coast_frames=0)
    tracker = build_tracker(TrackerConfig(classes={"car": ClassTrackerConfig(lifecycle=life)}))
    # no bonus or penalty on LiDAR detections: the track's last score is the detection's 2.0
    fusion = FusionConfig(
        confirmed_score_bonus=0.0,
        unconfirmed_score_penalty=0.0,
        max_camera_only_frames=3,
        camera_coast_score_penalty=0.5,
    )
    fused = FusedTracker(tracker, fusion, _camera)
    fused.reset()
    scores = []
    for frame in range(7):
        lidar_rows = BOX if frame < 4 else np.zeros((0, 7))  # LiDAR misses frames 4, 5, 6
        dets = Boxes3D.from_array7(
            lidar_rows,
            "ego",
            frame * PERIOD_NS,
            score=np.full(len(lidar_rows), 2.0),
            label=np.full(len(lidar_rows), CAR),
        )
        tracks = fused.step(dets)
        scores.append(tracks.boxes.score.tolist())
    # camera-only frames 1, 2, 3 in a row: 2.0 - 0.5 * 1, 2.0 - 0.5 * 2, 2.0 - 0.5 * 3
    assert scores[4:] == [pytest.approx([1.5]), pytest.approx([1.0]), pytest.approx([0.5])]


def test_a_second_camera_keeps_the_first_cameras_camera_seen() -> None:
    front = front_camera()
    back = front_camera("back", yaw_rad=np.pi)
    pts = np.array([[10.0, 0.0, 1.5], [-10.0, 0.0, 1.5]])  # ahead (front view), behind (back)
    cloud = PointCloud(pts, "ego", 0)
    empty = np.zeros((0, 4))
    once = paint_points(cloud, Detections2D(empty, front.frame), front, [CAR])
    # front camera: the point ahead is at pixel (621, 187.5), the point behind is behind it
    assert once.attributes[CAMERA_SEEN].tolist() == [1, 0]
    twice = paint_points(once, Detections2D(empty, back.frame), back, [CAR])
    # the back camera alone sees only the point behind ([0, 1]); combined by maximum: [1, 1]
    assert twice.attributes[CAMERA_SEEN].tolist() == [1, 1]


def test_detections_further_than_the_default_tolerance_from_the_cloud_are_refused() -> None:
    cal = front_camera()
    cloud = PointCloud(np.array([[10.0, 0.0, 1.5]]), "ego", 0)
    # 0.05 s apart: exactly the default max_time_offset_s = 0.05 s, accepted
    at_limit = Detections2D(np.zeros((0, 4)), cal.frame, 50_000_000)
    paint_points(cloud, at_limit, cal, [CAR])
    # 0.1 s apart (one KITTI frame): 0.1 > 0.05, refused
    late = Detections2D(np.zeros((0, 4)), cal.frame, 100_000_000)
    with pytest.raises(ValueError, match=r"0\.1 s apart; at most max_time_offset_s=0\.05 s"):
        paint_points(cloud, late, cal, [CAR])


def test_replay_keeps_a_row_whose_score_equals_min_score(tmp_path: Path) -> None:
    path = tmp_path / "0000.txt"
    # frame 0: scores 0.4 (below), 0.5 (equal to min_score), 0.7 (above)
    path.write_text("0,10,10,50,50,0.4\n0,60,10,100,50,0.5\n0,110,10,150,50,0.7\n")
    k = np.array([[700.0, 0.0, 621.0], [0.0, 700.0, 187.5], [0.0, 0.0, 1.0]])
    cal = CameraCalibration("image_02", k, 1242, 375, SE3.identity(), "camera_image_02")
    dets = ReplayCameraDetector([(path, CAR)], min_score=0.5).step(blank_image(cal, 0))
    # kept: score >= 0.5, i.e. 0.5 and 0.7, in file order
    assert dets.score.tolist() == [0.5, 0.7]
    np.testing.assert_array_equal(dets.box_xyxy_px[:, 0], [60.0, 110.0])
