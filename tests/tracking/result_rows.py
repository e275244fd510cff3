"""Hand-made KITTI tracking result rows, and one real tracked sequence, for the offline-rule
tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.ingest.kitti_tracking import read_ab3dmot_detections, read_ego_poses
from drivestack.tracking.config import TrackerConfig, load_tracker_config
from drivestack.tracking.kitti_run import SequenceRun, track_kitti_sequence
from drivestack.tracking.tracker import build_tracker


def car_rows(frames: list[int], track_ids: list[int], scores: list[float]) -> KittiObjects:
    """``N`` Car rows with the given frames, track ids and scores (unit boxes at (1, 1, 1))."""
    n = len(frames)
    return KittiObjects(
        frame=np.array(frames),
        track_id=np.array(track_ids),
        type_name=np.array(["Car"] * n),
        truncation=np.zeros(n),
        occlusion=np.zeros(n),
        alpha_rad=np.zeros(n),
        box2d_xyxy_px=np.zeros((n, 4)),
        hwl_m=np.ones((n, 3)),
        location_m=np.ones((n, 3)),
        rotation_y_rad=np.zeros(n),
        score=np.array(scores, dtype=np.float64),
    )


def track_rows(
    frames: list[int],
    ids: list[int],
    x: list[float],
    z: list[float],
    yaw: list[float] | None = None,
) -> KittiObjects:
    """Car rows (score 1) with bottom centres ``(x, 1.5, z)``, size 1.5 1.6 4.0 and yaws
    (default 0)."""
    rows = car_rows(frames, ids, [1.0] * len(frames))
    n = len(frames)
    return replace(
        rows,
        location_m=np.column_stack([x, np.full(n, 1.5), z]),
        hwl_m=np.tile([1.5, 1.6, 4.0], (n, 1)),
        rotation_y_rad=np.zeros(n) if yaw is None else np.array(yaw, dtype=np.float64),
    )


def detections_of(rows: KittiObjects, matched: list[bool]) -> np.ndarray:
    """``(N, 7)`` detection boxes equal to the rows' boxes where matched, NaN elsewhere."""
    box = np.column_stack([rows.location_m, rows.hwl_m, rows.rotation_y_rad])
    box[~np.array(matched)] = np.nan
    return box


def make_run(
    pieces: list[tuple[int, list[int], list[float], list[float]]],
    coasting: set[tuple[int, int]] | None = None,
    yaw: dict[int, float] | None = None,
    n_frames: int = 12,
    length: dict[int, float] | None = None,
) -> SequenceRun:
    """A run of tracks ``(id, frames, x, z)``: Car rows at ``(x, 1.5, z)``, size 1.5 1.6 4.0,
    matched (score 1) except the ``(id, frame)`` rows in ``coasting``; ``hits`` counts each
    track's matches so far; ``yaw`` and ``length`` per track id (default 0 and 4.0 m)."""
    coasting = coasting or set()
    ids = [t for t, frames, _, _ in pieces for _ in frames]
    frames = [f for _, fs, _, _ in pieces for f in fs]
    rows = car_rows(frames, ids, [1.0] * len(ids))
    n = len(rows)
    x = [v for _, _, xs, _ in pieces for v in xs]
    z = [v for _, _, _, zs in pieces for v in zs]
    matched = np.array([(t, f) not in coasting for t, f in zip(ids, frames, strict=True)])
    hits = np.zeros(n, dtype=np.int64)
    for t in set(ids):
        sel = np.flatnonzero(np.array(ids) == t)
        hits[sel] = np.cumsum(matched[sel])
    rows = replace(
        rows,
        location_m=np.column_stack([x, np.full(n, 1.5), z]),
        hwl_m=np.array([[1.5, 1.6, (length or {}).get(t, 4.0)] for t in ids]),
        rotation_y_rad=np.array([(yaw or {}).get(t, 0.0) for t in ids]),
        box2d_xyxy_px=np.tile([100.0, 100.0, 200.0, 200.0], (n, 1)),
    )
    box = np.column_stack([rows.location_m, rows.hwl_m, rows.rotation_y_rad])
    box[~matched] = np.nan
    return SequenceRun(
        rows,
        0.0,
        n_frames,
        hits=hits,
        detection_score=np.where(matched, 1.0, np.nan),
        detection_box=box,
    )


#: The shipped tracker configurations, and the KITTI one the real-run tests use.
TRACKING_CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "tracking"
KITTI_TRACKER_CONFIG = TRACKING_CONFIGS / "kitti_pointrcnn.yaml"


def real_car_run(shared_data: Path) -> tuple[TrackerConfig, KittiObjects, SequenceRun]:
    """The shipped config, the PointRCNN Car detections of KITTI val sequence 0012 and the
    tracker's run over its 78 frames with the ego poses."""
    root = shared_data / "kitti_tracking"
    cfg = load_tracker_config(KITTI_TRACKER_CONFIG)
    dets = read_ab3dmot_detections(
        root / "detections" / "ab3dmot_pointrcnn" / "pointrcnn_Car_val" / "0012.txt"
    )
    calib = read_kitti_calib(root / "training" / "calib" / "0012.txt")
    poses = read_ego_poses(root / "training" / "ego_poses_orbslam3_stereo" / "0012.txt")
    return cfg, dets, track_kitti_sequence(build_tracker(cfg), dets, calib, 78, "Car", poses)
