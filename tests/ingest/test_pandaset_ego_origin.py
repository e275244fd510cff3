"""PandaSet frames come out in the ego frame: the reader moves the world-frame npz points and
cuboids by ``ego_from_world``, the inverse of the frame's ``world_from_ego`` (the level LiDAR
pose). Checked on real data: the cloud lies around the ego with x forward, and going back
with ``world_from_ego`` gives the file's world points.

The shared sequence's poses start at the world origin, so a wrong ``ego_from_world`` (the pose
itself instead of its inverse) does not move the cloud far: it turns it about z by twice the
pose's heading (0.78 rad here), which the checks of direction below see.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.pandaset import LIDAR_POSE_SENSOR, read_pandaset_frame

SEQ = "pandaset/002"


@pytest.mark.data
@pytest.mark.parametrize("index", [0, 3])
def test_real_frame_lies_around_the_ego_with_x_forward(shared_data: Path, index: int) -> None:
    seq = shared_data / SEQ
    frame = read_pandaset_frame(seq, index)
    xyz = frame.lidar().xyz_m.astype(np.float64)
    assert frame.world_from_ego is not None

    # the points surround the ego, not some place hundreds of metres away
    assert float(np.median(np.linalg.norm(xyz[:, :2], axis=1))) < 60.0
    lidar_pose = frame.ego_from_sensor[LIDAR_POSE_SENSOR]
    assert float(np.linalg.norm(lidar_pose.translation)) < 3.0
    near = np.linalg.norm(xyz[:, :2], axis=1) < 10.0
    assert -3.0 < float(np.percentile(xyz[near, 2], 5)) < 0.0  # the road just below the ego

    # back to the world with world_from_ego: the file's (world-frame) points
    raw = np.load(seq / "lidar" / f"{index:02d}.npz")["xyz"].astype(np.float64)
    np.testing.assert_allclose(frame.world_from_ego.apply(xyz), raw, rtol=0.0, atol=1e-3)

    # the LiDAR pose frame (x right, y forward, z up) in the ego frame: its forward axis is
    # the ego's +x and its up axis the ego's +z (to the pose's small pitch and roll)
    rotation = lidar_pose.rotation
    assert rotation[0, 1] > 0.99 and rotation[2, 2] > 0.99
    assert abs(rotation[1, 1]) < 0.05

    # labelled traffic drives along the ego's road: boxes mostly parallel to x (modulo pi)
    assert frame.labels is not None and frame.labels.frame == "ego"
    yaw = frame.labels.to_array7()[:, 6]
    off_axis = np.abs(np.angle(np.exp(2j * yaw))) / 2.0
    assert float(np.median(off_axis)) < 0.2
