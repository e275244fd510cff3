"""Fused tracking refuses what it cannot use: config values out of range (at the dotted key),
camera frames of the wrong type or time, clouds in another frame; fused_offline keys in any
case apply; 2D detections without labels confirm a box of any class; the fused KITTI eval
requires the camera file of every class and sequence."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import ConfigError, DataError
from drivestack.perception.fusion.fused_tracking import (
    CameraFrame,
    FusedOfflineRules,
    FusedTracker,
    FusionConfig,
)
from drivestack.perception.fusion.kitti_eval import check_camera_files
from drivestack.perception.fusion.painting import paint_points
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.point_cloud import PointCloud
from drivestack.tracking.config import ClassTrackerConfig
from tests.perception.fusion.test_fused_tracking import (
    CAM,
    CAR,
    PERIOD_NS,
    _camera,
    _lidar,
    _tracker,
)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("detection_iou", 1.5),
        ("track_iou", -0.1),
        ("track_iou", math.nan),
        ("identity_max_box_iou", 2.0),
        ("max_camera_only_frames", -2),
        ("identity_max_gap_frames", 1.5),
        ("birth_isolation_m", -4.0),
        ("coast_isolation_m", math.inf),
        ("identity_swap_radius_m", -1.0),
        ("confirmed_score_bonus", math.nan),
        ("max_time_offset_s", -0.1),
    ],
)
def test_fusion_config_ranges_at_the_key(key: str, value: float) -> None:
    with pytest.raises(ConfigValueError) as info:
        FusionConfig(**{key: value})
    assert info.value.key == key


def test_fusion_config_errors_name_file_and_dotted_key(tmp_path: Path) -> None:
    bad = tmp_path / "f.yaml"
    bad.write_text("detection_iou: 1.5\n")
    with pytest.raises(ConfigError, match=r"f\.yaml.*field detection_iou"):
        load_yaml_config(FusionConfig, bad)
    bad.write_text("track_iou: .nan\n")
    with pytest.raises(ConfigError, match=r"field track_iou"):
        load_yaml_config(FusionConfig, bad)
    bad.write_text("fused_offline:\n  pedestrain: {min_track_score: 4.0}\n")
    with pytest.raises(ConfigError, match=r"field fused_offline\.pedestrain: unknown object class"):
        load_yaml_config(FusionConfig, bad)
    bad.write_text(
        "fused_offline:\n  pedestrian: {min_track_score: 4.0}\n  Pedestrian: {min_track_score: 1.0}\n"
    )
    with pytest.raises(
        ConfigError, match=r"field fused_offline\.Pedestrian: class pedestrian given twice"
    ):
        load_yaml_config(FusionConfig, bad)


def test_fused_offline_values_must_be_rules() -> None:
    with pytest.raises(
        TypeError, match=r"fused_offline\.car must be a FusedOfflineRules, got dict"
    ):
        FusionConfig(fused_offline={"car": {"min_track_score": 1.0}})  # type: ignore[dict-item]
    with pytest.raises(ConfigValueError):
        FusedOfflineRules(min_track_score=math.nan)


def test_capitalised_fused_offline_key_applies(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text("fused_offline:\n  Pedestrian: {min_track_score: 4.0, track_scorer: false}\n")
    cfg = load_yaml_config(FusionConfig, path)
    assert list(cfg.fused_offline) == ["pedestrian"]
    rules = cfg.offline_rules(ClassTrackerConfig(), "Pedestrian")
    assert rules.offline_min_track_score == 4.0


def test_wrong_camera_source_type_names_source_and_time() -> None:
    fused = FusedTracker(_tracker(), FusionConfig(), lambda t: {"front": None})  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"camera_source .* at timestamp_ns 0 returned dict"):
        fused.step(_lidar(0))

    def not_dets(t: int) -> CameraFrame:
        return CameraFrame({"front": "boxes"}, {"front": CAM})  # type: ignore[dict-item]

    fused = FusedTracker(_tracker(), FusionConfig(), not_dets)
    with pytest.raises(TypeError, match=r"timestamp_ns 0: camera 'front' has str"):
        fused.step(_lidar(0))


def test_late_camera_frames_are_not_used_and_counted() -> None:
    def late(timestamp_ns: int) -> CameraFrame:
        frame = _camera(timestamp_ns)
        dets = frame.detections["front"]
        return replace(
            frame, detections={"front": replace(dets, timestamp_ns=timestamp_ns + 2 * 10**9)}
        )

    fused = FusedTracker(_tracker(), FusionConfig(), late)
    fused.step(_lidar(1))
    assert not fused.last_confirmed.any()  # 2 s late: confirms nothing
    assert fused.stale_camera_frames == {"front": 1}
    fused.reset()
    assert fused.stale_camera_frames == {}
    on_time = FusedTracker(_tracker(), FusionConfig(), _camera)
    on_time.step(_lidar(1))
    assert on_time.last_confirmed.all() and on_time.stale_camera_frames == {}
    off = FusedTracker(_tracker(), FusionConfig(max_time_offset_s=None), late)
    off.step(_lidar(1))
    assert off.last_confirmed.all()  # None: stamps not compared


def test_unlabelled_2d_detections_confirm_any_class() -> None:
    def unlabelled(timestamp_ns: int) -> CameraFrame:
        dets = _camera(timestamp_ns).detections["front"]
        plain = Detections2D(dets.box_xyxy_px, dets.frame, dets.timestamp_ns, score=dets.score)
        return CameraFrame({"front": plain}, {"front": CAM})

    fused = FusedTracker(_tracker(), FusionConfig(), unlabelled)
    det = _lidar(1)
    assert (det.label == CAR).all()
    fused.step(det)
    assert fused.last_confirmed.all()
    assert (fused.last_detection_score > det.score).all()  # bonus, not the penalty


def test_paint_points_refuses_other_frames_and_times() -> None:
    pts = np.array([[10.0, 0.0, 1.0]])
    dets = Detections2D(np.zeros((0, 4)), CAM.frame, 0)
    for frame in ("ego", "lidar"):
        paint_points(PointCloud(pts, frame, 0), dets, CAM, [CAR])
    with pytest.raises(ValueError, match=r"cloud is in frame 'map'"):
        paint_points(PointCloud(pts, "map", 0), dets, CAM, [CAR])
    paint_points(PointCloud(pts, "base", 0), dets, CAM, [CAR], ego_frame="base")
    with pytest.raises(ValueError, match=r"5 s apart"):
        paint_points(PointCloud(pts, "ego", 5 * 10**9), dets, CAM, [CAR])
    paint_points(PointCloud(pts, "ego", 30 * 10**6), dets, CAM, [CAR])  # within 0.05 s
    paint_points(PointCloud(pts, "ego", 5 * 10**9), dets, CAM, [CAR], max_time_offset_s=10.0)


def test_camera_files_required_for_every_class_and_sequence(tmp_path: Path) -> None:
    seqmap = [SimpleNamespace(name="0001"), SimpleNamespace(name="0006")]
    root = tmp_path / "rrc"
    with pytest.raises(
        DataError, match=r"rrc/Car/: field --fusion: no camera detections for class Car"
    ):
        check_camera_files(root, ["Car"], seqmap)
    (root / "Car").mkdir(parents=True)
    (root / "Car" / "0001.txt").write_text("")
    with pytest.raises(DataError, match=r"Car/0006\.txt: field --fusion: no such file"):
        check_camera_files(root, ["Car"], seqmap)
    (root / "Car" / "0006.txt").write_text("")  # empty: no detections, accepted
    check_camera_files(root, ["Car"], seqmap)
    with pytest.raises(DataError, match=r"class Cyclist \(have: Car\)"):
        check_camera_files(root, ["Car", "Cyclist"], seqmap)
    assert PERIOD_NS == 100_000_000
