"""Simulated frames exported in the KITTI object layout read back like real KITTI frames."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import numpy as np

from drivestack.ingest.kitti_object import read_kitti_object_frame
from drivestack.replay.log_reader import LogReader
from drivestack.sim.export_kitti import export_kitti_object

REPO = Path(__file__).resolve().parents[2]


def test_demo_frames_round_trip_through_the_kitti_layout(tmp_path):
    frames = list(islice(LogReader(REPO / "data/demo/drive.mcap").frames(), 3))
    assert export_kitti_object(frames, tmp_path) == 3
    for index, frame in enumerate(frames):
        back = read_kitti_object_frame(tmp_path, index)
        cloud = frame.lidar("top")
        np.testing.assert_array_equal(back.lidar().xyz_m, cloud.xyz_m)
        labels_lidar = frame.labels.transformed(frame.ego_from_sensor["top"].inverse(), "lidar")
        assert back.labels is not None and len(back.labels) == len(labels_lidar) == 1
        np.testing.assert_allclose(back.labels.center_m, labels_lidar.center_m, atol=0.01)
        np.testing.assert_allclose(back.labels.size_m, labels_lidar.size_m, atol=0.01)
        assert (
            abs(
                np.remainder(back.labels.yaw_rad[0] - labels_lidar.yaw_rad[0] + np.pi, 2 * np.pi)
                - np.pi
            )
            < 0.01
        )
        assert (tmp_path / "training/image_2" / f"{index:06d}.png").exists()
