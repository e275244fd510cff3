"""KITTI runner helpers: whole-track score filtering and a short real sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_tracking import read_ab3dmot_detections, read_ego_poses
from drivestack.tracking.config import load_tracker_config
from drivestack.tracking.kitti_run import track_kitti_sequence
from drivestack.tracking.offline import drop_low_score_tracks
from drivestack.tracking.tracker import build_tracker
from tests.tracking.result_rows import KITTI_TRACKER_CONFIG, car_rows


def test_drop_low_score_tracks_uses_the_track_mean() -> None:
    rows = car_rows(
        list(range(5)), [1, 1, 2, 2, 3], [4.0, 0.0, 1.0, 2.0, 9.0]
    )  # means 2.0, 1.5, 9.0
    kept = drop_low_score_tracks(rows, 2.0)
    assert kept.track_id.tolist() == [1, 1, 3]
    assert len(drop_low_score_tracks(rows, None)) == 5


@pytest.mark.data
def test_track_real_sequence(shared_data: Path) -> None:
    root = shared_data / "kitti_tracking"
    cfg = load_tracker_config(KITTI_TRACKER_CONFIG)
    tracker = build_tracker(cfg)
    dets = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / "0012.txt"
    )
    calib = read_kitti_calib(root / "training" / "calib" / "0012.txt")
    assert cfg.ego_motion_compensation  # the shipped config tracks in the ego-pose world frame
    poses = read_ego_poses(root / "training" / "ego_poses_orbslam3_stereo" / "0012.txt")
    run = track_kitti_sequence(tracker, dets, calib, 78, "Car", poses)
    res = run.results
    assert run.n_frames == 78 and len(res) > 0
    assert set(res.type_name.tolist()) == {"Car"}
    # one row per (frame, id); matched rows carry their detection's image box
    key = res.frame * 10_000 + res.track_id
    assert np.unique(key).size == len(res)
    assert np.all(res.box2d_xyxy_px[:, 2] >= res.box2d_xyxy_px[:, 0])
    # boxes come back to the camera frame: close to some detection of the same frame
    f0 = res.frame == res.frame.min()
    d0 = dets.location_m[dets.frame == res.frame.min()]
    dist = np.linalg.norm(res.location_m[f0][:, None, :] - d0[None], axis=2).min(axis=1)
    assert np.all(dist < 0.5)
