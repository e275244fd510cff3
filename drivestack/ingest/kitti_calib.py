"""KITTI calibration files (object and tracking benchmarks).

A calib file holds one ``key: numbers`` (or ``key numbers``) line per matrix. Both spellings in
circulation are accepted and normalised to the object-benchmark names:

===================  ================  =========
canonical key        also accepted     shape
===================  ================  =========
``P0`` .. ``P3``                       3 x 4
``R0_rect``          ``R_rect``        3 x 3
``Tr_velo_to_cam``   ``Tr_velo_cam``,  3 x 4
                     ``Tr`` (odometry)
``Tr_imu_to_velo``   ``Tr_imu_velo``   3 x 4
===================  ================  =========

``camera_rect`` below is KITTI's rectified camera-0 frame (x right, y down, z forward); the
camera-2 image projection is ``P2``. Rigid transforms are returned as :class:`SE3` with the
rotation projected onto the nearest orthonormal matrix (KITTI prints ~7 significant digits, so
the stored matrices are orthonormal only to ~1e-6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3, nearest_rotation

_ALIASES: dict[str, str] = {
    "R_rect": "R0_rect",
    "R0_rect": "R0_rect",
    "Tr_velo_cam": "Tr_velo_to_cam",
    "Tr_velo_to_cam": "Tr_velo_to_cam",
    "Tr": "Tr_velo_to_cam",  # odometry calib.txt: velodyne -> rectified camera 0
    "Tr_imu_velo": "Tr_imu_to_velo",
    "Tr_imu_to_velo": "Tr_imu_to_velo",
    "Tr_cam_to_road": "Tr_cam_to_road",
}
_SHAPES: dict[str, tuple[int, int]] = {
    "P0": (3, 4),
    "P1": (3, 4),
    "P2": (3, 4),
    "P3": (3, 4),
    "R0_rect": (3, 3),
    "Tr_velo_to_cam": (3, 4),
    "Tr_imu_to_velo": (3, 4),
    "Tr_cam_to_road": (3, 4),
}
_REQUIRED = ("P2", "R0_rect", "Tr_velo_to_cam")


@dataclass(frozen=True)
class KittiCalib:
    """One KITTI calibration.

    Attributes:
        P: ``{"P0": (3,4), ...}`` camera projection matrices (rectified camera frame -> pixels).
        R0_rect: ``(3, 3)`` rectifying rotation (camera 0 -> rectified camera 0).
        Tr_velo_to_cam: ``(3, 4)`` LiDAR -> camera 0 (unrectified).
        Tr_imu_to_velo: ``(3, 4)`` IMU -> LiDAR, or ``None`` when the file has none.
        path: the file it was read from ("" when built in code).
    """

    P: dict[str, np.ndarray]
    R0_rect: np.ndarray
    Tr_velo_to_cam: np.ndarray
    Tr_imu_to_velo: np.ndarray | None = None
    path: str = ""

    @property
    def P2(self) -> np.ndarray:
        """``(3, 4)`` projection of the left colour camera (image_02)."""
        return self.P["P2"]

    def camera_rect_from_lidar_matrix(self) -> np.ndarray:
        """``(4, 4)`` ``R0_rect @ Tr_velo_to_cam`` exactly as stored (not orthonormalised)."""
        r0 = np.eye(4)
        r0[:3, :3] = self.R0_rect
        tr = np.eye(4)
        tr[:3, :] = self.Tr_velo_to_cam
        return r0 @ tr

    def camera_rect_from_lidar(self) -> SE3:
        """Rigid LiDAR -> rectified camera transform (rotation orthonormalised)."""
        m = self.camera_rect_from_lidar_matrix()
        return SE3(nearest_rotation(m[:3, :3]), m[:3, 3])

    def lidar_from_camera_rect(self) -> SE3:
        return self.camera_rect_from_lidar().inverse()


def read_kitti_calib(path: str | Path) -> KittiCalib:
    """Read a KITTI calib file (object, tracking or odometry layout; either key spelling).

    Raises:
        DataError: missing file, a line that is not ``key: numbers``, a wrong number count,
            non-numeric values, or a missing required key (``P2``, ``R0_rect``,
            ``Tr_velo_to_cam``); the message names the file, line and key.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise DataError(f"cannot read calibration file: {exc.strerror}", path=str(p)) from exc
    values: dict[str, np.ndarray] = {}
    odometry_layout = False  # odometry calib.txt: P0..P3 and "Tr", no R0_rect
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, rest = line.partition(":")
        if not sep:
            key, _, rest = line.partition(" ")
        key = key.strip()
        odometry_layout |= key == "Tr"
        canonical = _ALIASES.get(key, key)
        if canonical not in _SHAPES:
            continue  # unknown keys (e.g. S_00, K_00 of raw calib) are not needed here
        try:
            numbers = np.array([float(v) for v in rest.split()], dtype=np.float64)
        except ValueError as exc:
            raise DataError(
                f"non-numeric value ({exc})", path=str(p), record=f"line {line_no}", field=key
            ) from None
        shape = _SHAPES[canonical]
        if numbers.size != shape[0] * shape[1]:
            raise DataError(
                f"expected {shape[0] * shape[1]} numbers for a {shape[0]}x{shape[1]} matrix, got {numbers.size}",
                path=str(p),
                record=f"line {line_no}",
                field=key,
            )
        if not np.all(np.isfinite(numbers)):
            raise DataError(
                "NaN or infinite value", path=str(p), record=f"line {line_no}", field=key
            )
        values[canonical] = numbers.reshape(shape)
    if odometry_layout and "R0_rect" not in values:
        values["R0_rect"] = np.eye(3)  # odometry: Tr already maps into the rectified camera
    for key in _REQUIRED:
        if key not in values:
            raise DataError(f"missing calibration key {key}", path=str(p), field=key)
    return KittiCalib(
        P={k: v for k, v in values.items() if k.startswith("P")},
        R0_rect=values["R0_rect"],
        Tr_velo_to_cam=values["Tr_velo_to_cam"],
        Tr_imu_to_velo=values.get("Tr_imu_to_velo"),
        path=str(p),
    )
