"""Hand-made KITTI tracking result rows for the offline-rule tests."""

from __future__ import annotations

import numpy as np

from drivestack.ingest.kitti_format import KittiObjects


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
