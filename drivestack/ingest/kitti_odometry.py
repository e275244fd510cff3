"""KITTI odometry: Velodyne scans, ground-truth poses, timestamps.

``poses/NN.txt`` holds one row-major 3x4 ``[R|t]`` per frame: the pose of the left grey camera
(cam0) in the cam0 frame of frame 0 (x right, y down, z forward). ``Tr`` in ``calib.txt`` maps
Velodyne -> cam0. Poses are converted once into z-up LiDAR poses: ``world_from_lidar[i]`` with
``world`` = the LiDAR frame of frame 0, ``world_from_lidar[i] = Tr^-1 @ cam0_0_from_cam0_i @ Tr``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.ingest._points import read_bytes
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from drivestack.ingest.kitti_object import read_velodyne_bin
from drivestack.structures.sensor_frame import SensorFrame


def _rows(path: Path, width: int) -> np.ndarray:
    text = read_bytes(path).decode("ascii", errors="replace")
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != width:
            raise DataError(
                f"expected {width} numbers, got {len(parts)}",
                path=str(path),
                record=f"line {line_no}",
            )
        try:
            rows.append([float(v) for v in parts])
        except ValueError:
            raise DataError(
                f"non-numeric value in {line.strip()!r}", path=str(path), record=f"line {line_no}"
            ) from None
    return np.asarray(rows, dtype=np.float64).reshape(-1, width)


def read_camera_poses(path: str | Path) -> SE3:
    """Batch of ``cam0_0_from_cam0_i`` from a KITTI poses file."""
    rows = _rows(Path(path), 12)
    return rigid_from_matrix(rows.reshape(-1, 3, 4), path=str(path), field="pose")


def read_times_ns(path: str | Path) -> np.ndarray:
    """``times.txt`` (seconds from the sequence start) as int64 ns."""
    return np.round(_rows(Path(path), 1)[:, 0] * 1e9).astype(np.int64)


def lidar_poses(cam_poses: SE3, cam0_from_lidar: SE3) -> SE3:
    """``world_from_lidar`` per frame, world = the LiDAR frame of frame 0."""
    n = cam_poses.batch_shape[0]
    tr = SE3(
        np.broadcast_to(cam0_from_lidar.rotation, (n, 3, 3)).copy(),
        np.broadcast_to(cam0_from_lidar.translation, (n, 3)).copy(),
    )
    return tr.inverse() @ cam_poses @ tr


def read_odometry_sequence_poses(
    sequence_dir: str | Path, poses_path: str | Path, calib: KittiCalib | None = None
) -> SE3:
    """LiDAR poses of a sequence (calib from ``<sequence_dir>/calib.txt`` unless given)."""
    calib = calib if calib is not None else read_kitti_calib(Path(sequence_dir) / "calib.txt")
    return lidar_poses(read_camera_poses(poses_path), calib.camera_rect_from_lidar())


def read_odometry_frame(
    sequence_dir: str | Path, index: int, world_from_lidar: SE3, times_ns: np.ndarray
) -> SensorFrame:
    """Scan ``velodyne/<index>.bin`` with its pose (ego = LiDAR frame)."""
    seq = Path(sequence_dir)
    if not 0 <= index < min(len(times_ns), world_from_lidar.batch_shape[0]):
        raise DataError(f"frame {index} has no pose/timestamp", path=str(seq))
    ts = int(times_ns[index])
    cloud = read_velodyne_bin(seq / "velodyne" / f"{index:06d}.bin", timestamp_ns=ts)
    return SensorFrame(ts, lidars={LIDAR: cloud}, ego_from_sensor={LIDAR: SE3.identity()},
                       world_from_ego=world_from_lidar[index], source=f"{seq}:{index:06d}")  # fmt: skip
