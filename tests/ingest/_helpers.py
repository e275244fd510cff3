"""Calibration shared by the KITTI reader and writer tests."""

from __future__ import annotations

import numpy as np

from drivestack.ingest.kitti_calib import KittiCalib

# Ideal calibration: LiDAR (x fwd, y left, z up) -> camera_rect (x right, y down, z fwd),
# P2 with f = 700 px and the principal point at (600, 180).
IDEAL_CALIB = KittiCalib(
    P={"P2": np.array([[700.0, 0, 600, 0], [0, 700, 180, 0], [0, 0, 1, 0]])},
    R0_rect=np.eye(3),
    Tr_velo_to_cam=np.array([[0.0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]]),
)
