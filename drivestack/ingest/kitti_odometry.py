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
from drivestack.core.time import first_not_increasing
from drivestack.core.transforms import SE3
from drivestack.ingest._points import check_finite, parse_numbers, read_bytes
from drivestack.ingest._rigid import rigid_from_matrix
from drivestack.ingest.kitti_calib import KittiCalib, read_kitti_calib
from drivestack.ingest.kitti_format import check_line_per_frame
from drivestack.ingest.kitti_object import read_velodyne_bin
from drivestack.structures._checks import check_number
from drivestack.structures.sensor_frame import SensorFrame


def _rows(path: Path, width: int, field: str) -> tuple[np.ndarray, list[str]]:
    """``(N, width)`` float64 numbers of the non-blank lines of ``path`` and each row's record
    (``"line 7"``); ``DataError`` naming the file and line for a wrong count, a blank line
    before a row (line ``i + 1`` is frame ``i``) or a non-number (then also ``field``; C
    spellings only: :func:`~drivestack.ingest._points.parse_numbers`), and the file for a file
    without any row."""
    text = read_bytes(path).decode("ascii", errors="replace")
    rows, line_numbers = [], []
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
        rows.append(
            parse_numbers([parts], [field] * width, path=str(path), line_numbers=[line_no])[0]
        )
        line_numbers.append(line_no)
    if not rows:
        raise DataError("empty file: no frame", path=str(path))
    check_line_per_frame(line_numbers, path=str(path))
    records = [f"line {n}" for n in line_numbers]
    return np.asarray(rows, dtype=np.float64).reshape(-1, width), records


def read_camera_poses(path: str | Path) -> SE3:
    """Batch of ``cam0_0_from_cam0_i`` from a KITTI poses file, one per line and frame.

    Raises:
        DataError: naming the file, the line and field ``pose`` for a line without 12
            numbers, a NaN / infinite value or a rotation that is not orthonormal; naming the
            file when it has no line.
    """
    rows, records = _rows(Path(path), 12, "pose")
    return rigid_from_matrix(
        rows.reshape(-1, 3, 4), path=str(path), field="pose", batch_records=records
    )


def read_times_ns(path: str | Path) -> np.ndarray:
    """``(F,)`` int64 ns of ``times.txt`` (one time per line and frame, in seconds from the
    sequence start): the ``times_ns`` of :func:`read_odometry_frame`.

    Raises:
        DataError: naming the file, the line and field ``time_s`` for a non-number, a NaN /
            infinite time or a time not after the previous line's; naming the file when it has
            no line.
    """
    rows, records = _rows(Path(path), 1, "time_s")
    seconds = rows[:, 0]
    finite = np.isfinite(seconds)
    n_finite = len(seconds) if finite.all() else int(np.argmin(finite))  # before the first NaN
    times_ns = np.round(seconds[:n_finite] * 1e9).astype(np.int64)
    i = first_not_increasing(times_ns)
    if i is not None:
        raise DataError(
            f"time {float(seconds[i])!r} s is not after the previous line (times must increase)",
            path=str(path),
            record=records[i],
            field="time_s",
        )
    check_finite(
        rows,
        ("time_s",),
        path=str(path),
        record=records.__getitem__,
        reason="time {value!r} s is NaN or infinite (times must increase)",
    )
    return times_ns


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
    """Scan ``velodyne/<index>.bin`` of a sequence with its pose and time (ego = LiDAR frame).

    Args:
        sequence_dir: the sequence folder (``calib.txt``, ``times.txt``, ``velodyne/``).
        index: the frame number, ``0 <= index < F``.
        world_from_lidar: ``(F,)`` batch of LiDAR poses,
            :func:`read_odometry_sequence_poses` ``(sequence_dir, poses_path)``.
        times_ns: ``(F,)`` integer nanoseconds from the sequence start,
            :func:`read_times_ns` ``(sequence_dir / "times.txt")`` (not ``times.txt``'s
            float seconds).

    Raises:
        TypeError: ``times_ns`` is not a ``(F,)`` integer array (float seconds would read as
            0 ns), or ``index`` is not an int.
        DataError: no time or no pose for ``index`` (naming which), or a missing or bad scan.
    """
    seq = Path(sequence_dir)
    check_number("index", index, integer=True)
    index = int(index)
    times = np.asarray(times_ns)
    if times.ndim != 1 or times.dtype.kind not in "iu":
        raise TypeError(
            f"times_ns must be a (F,) integer array of nanoseconds (read_times_ns(sequence_dir "
            f"/ 'times.txt')), got {times.dtype} with shape {times.shape}"
        )
    _check_frame_index(index, len(times), seq / "times.txt", "times_ns", "time")
    n_poses = world_from_lidar.batch_shape[0]
    _check_frame_index(index, n_poses, seq, "world_from_lidar", "pose (from the poses file)")
    ts = int(times[index])
    cloud = read_velodyne_bin(seq / "velodyne" / f"{index:06d}.bin", timestamp_ns=ts)
    return SensorFrame(ts, lidars={LIDAR: cloud}, ego_from_sensor={LIDAR: SE3.identity()},
                       world_from_ego=world_from_lidar[index], source=f"{seq}:{index:06d}")  # fmt: skip


def _check_frame_index(index: int, count: int, path: Path, field: str, what: str) -> None:
    """``DataError`` naming ``path`` and ``field`` when frame ``index`` is not in ``0..count-1``
    (``what``: one entry, e.g. "time")."""
    if not 0 <= index < count:
        held = f"frames 0-{count - 1}" if count else "no frame"
        raise DataError(
            f"frame {index} has no {what}: {field} has {count} entries ({held})",
            path=str(path),
            record=f"frame {index}",
            field=field,
        )
