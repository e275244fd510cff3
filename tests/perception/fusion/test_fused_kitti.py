"""Fused tracking on a real KITTI sequence: PointRCNN 3D + RRC 2D detections vs LiDAR only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.tracking import KittiMotProtocol
from drivestack.eval.tracking.kitti import evaluate_class
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_tracking import (
    read_ab3dmot_detections,
    read_seqmap,
    read_tracking_labels,
)
from drivestack.perception.fusion.fused_tracking import FusedTracker, FusionConfig
from drivestack.perception.fusion.kitti import CAMERA, rrc_camera_source
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import TrackerConfig, load_tracker_config
from drivestack.tracking.kitti_run import track_kitti_sequence
from drivestack.tracking.tracker import build_tracker

REPO = Path(__file__).resolve().parents[3]
SEQUENCE = "0001"

pytestmark = pytest.mark.data


def test_rrc_camera_source_replays_image_02(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    calib = read_kitti_calib(root / "training" / "calib" / "0016.txt")
    source = rrc_camera_source(
        root / "detections" / "deepfusionmot_rrc_2d" / "training", "0016", calib, ("Car",)
    )
    frame = source(3 * 100_000_000)
    cal = frame.calibrations[CAMERA]
    assert (cal.width_px, cal.height_px) == (1224, 370)
    dets = frame.detections[CAMERA]
    assert dets.frame == cal.frame and dets.timestamp_ns == 300_000_000
    assert len(dets) > 0 and (dets.box_xyxy_px[:, 2] <= 1224).all()
    assert frame.detected_labels == frozenset({int(ObjectClass.CAR)})
    # RRC has no Cyclist folder: the camera does not detect cyclists (no unconfirmed penalty)
    both = rrc_camera_source(
        root / "detections" / "deepfusionmot_rrc_2d" / "training", "0016", calib, ("Car", "Cyclist")
    )(0)
    assert both.detected_labels == frozenset({int(ObjectClass.CAR)})


def test_fused_tracker_beats_lidar_only_on_a_kitti_sequence(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    entry = next(
        e
        for e in read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.val")
        if e.name == SEQUENCE
    )
    calib = read_kitti_calib(root / "training" / "calib" / f"{SEQUENCE}.txt")
    dets = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / f"{SEQUENCE}.txt"
    )
    gt = {SEQUENCE: read_tracking_labels(root / "training" / "label_02" / f"{SEQUENCE}.txt")}
    cfg = load_tracker_config(REPO / "configs" / "tracking" / "kitti_pointrcnn.yaml")
    tracker = build_tracker(TrackerConfig(classes={"Car": cfg.classes["car"]}))
    lidar = track_kitti_sequence(tracker, dets, calib, entry.n_frames, "Car").results
    source = rrc_camera_source(
        root / "detections" / "deepfusionmot_rrc_2d" / "training", SEQUENCE, calib, ("Car",)
    )
    fused_stage = FusedTracker(tracker, FusionConfig(), source)
    fused = track_kitti_sequence(fused_stage, dets, calib, entry.n_frames, "Car").results  # type: ignore[arg-type]
    protocol = KittiMotProtocol()
    m_lidar = evaluate_class("Car", [entry], gt, {SEQUENCE: lidar}, protocol).clear
    m_fused = evaluate_class("Car", [entry], gt, {SEQUENCE: fused}, protocol).clear
    assert m_fused.sAMOTA > m_lidar.sAMOTA
    assert m_fused.best.MOTA > m_lidar.best.MOTA
    assert m_fused.best.IDS <= m_lidar.best.IDS


def test_offline_rules_see_the_camera_rescored_detections(shared_data: Path) -> None:
    """The car's offline whole-track score (mean detection score + w ln(matches)) and the
    low-score drop are computed from the scores the fused tracker tracked, camera bonus and
    penalty included; with the raw LiDAR scores the camera would not change which tracks a
    result file keeps."""
    from drivestack.config import load_yaml_config
    from drivestack.ingest.kitti_tracking import read_ego_poses
    from drivestack.tracking.offline import offline_result_rows

    root = shared_data / "kitti_tracking"
    calib = read_kitti_calib(root / "training" / "calib" / f"{SEQUENCE}.txt")
    dets = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / f"{SEQUENCE}.txt"
    )
    poses = read_ego_poses(root / "training" / "ego_poses_orbslam3_stereo" / f"{SEQUENCE}.txt")
    cfg = load_tracker_config(REPO / "configs" / "tracking" / "kitti_pointrcnn.yaml")
    fusion = load_yaml_config(
        FusionConfig, REPO / "configs" / "perception" / "fusion_kitti_rrc.yaml"
    )
    car = cfg.classes["car"]
    tracker = build_tracker(TrackerConfig(classes={"Car": car}, ego_motion_compensation=True))
    source = rrc_camera_source(
        root / "detections" / "deepfusionmot_rrc_2d" / "training", SEQUENCE, calib, ("Car",)
    )
    stage = FusedTracker(tracker, fusion, source)
    n_frames = next(
        e.n_frames
        for e in read_seqmap(root / "seqmaps" / "evaluate_tracking.seqmap.val")
        if e.name == SEQUENCE
    )
    run = track_kitti_sequence(stage, dets, calib, n_frames, "Car", poses)  # type: ignore[arg-type]
    assert run.detection_score is not None
    matched = ~np.isnan(run.detection_score)
    # each matched row's score is one of its frame's raw scores + bonus, - penalty, or + 0
    deltas = set()
    for f, s in zip(run.results.frame[matched], run.detection_score[matched], strict=True):
        raw = dets.score[dets.frame == f]
        for delta in (fusion.confirmed_score_bonus, -fusion.unconfirmed_score_penalty, 0.0):
            if np.any(np.isclose(raw + delta, s, rtol=0.0, atol=1e-9)):
                deltas.add(delta)
                break
        else:
            raise AssertionError(f"frame {f}: score {s} is no detection's fused score")
    assert {fusion.confirmed_score_bonus, -fusion.unconfirmed_score_penalty} <= deltas
    # the car's offline rules run on these scores: some tracks are dropped, the rest score
    # at least offline_min_track_score
    kept = offline_result_rows(run, car)
    assert car.offline_min_track_score is not None and 0 < len(kept) < len(run.results)
    assert np.all(kept.score >= car.offline_min_track_score)
