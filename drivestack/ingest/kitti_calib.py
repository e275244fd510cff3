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
``Tr_cam_to_road``                     3 x 4
===================  ================  =========

``camera_rect`` below is KITTI's rectified camera-0 frame (x right, y down, z forward); the
camera-2 image projection is ``P2``. Rigid transforms are returned as :class:`SE3` with the
rotation projected onto the nearest orthonormal matrix (KITTI prints ~7 significant digits, so
the stored matrices are orthonormal only to ~1e-7: every calib file in the shared KITTI
object, tracking and odometry data is within 5e-8). A rotation block further than 1e-4 from
the nearest rotation (:func:`drivestack.ingest._rigid.rigid_from_matrix`'s tolerance) is a
corrupted file and a ``DataError``.

A line is ``key: numbers`` or ``key numbers``. Lines ``key: ...`` with a key not listed above
are skipped (raw-calib extras such as ``S_00`` or ``calib_time``; an ASCII key only); a line
with no ``:`` that does not start with a listed key is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import parse_float
from drivestack.core.transforms import SE3
from drivestack.ingest._rigid import rigid_from_matrix

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
#: Keys whose 3x3 block is a rotation (checked to be orthonormal when read).
_RIGID = ("R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo", "Tr_cam_to_road")


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
        """Rigid LiDAR -> rectified camera transform (rotation orthonormalised).

        Raises ``DataError`` naming the file when ``R0_rect @ Tr_velo_to_cam`` is not a
        rotation to 1e-4 (a calibration built in code; files are checked when read)."""
        return rigid_from_matrix(
            self.camera_rect_from_lidar_matrix(),
            path=self.path or None,
            field="R0_rect @ Tr_velo_to_cam",
        )

    def lidar_from_camera_rect(self) -> SE3:
        return self.camera_rect_from_lidar().inverse()


def _parse_line(line: str, *, path: str, line_no: int) -> tuple[str, np.ndarray] | None:
    """``(canonical key, numbers)`` of one non-blank line, None for a skipped unknown key."""
    key, sep, rest = line.partition(":")
    if not sep:
        key, _, rest = line.partition(" ")
    key = key.strip()
    canonical = _ALIASES.get(key, key)
    if canonical not in _SHAPES:
        if sep and key and " " not in key and key.isascii():
            return None  # unknown keys (e.g. S_00, K_00 of raw calib) are not needed here
        # (a key with non-ASCII / undecodable bytes is a corrupted line, never skipped)
        raise DataError(
            f"not a 'key: numbers' line: {line[:40]!r}", path=path, record=f"line {line_no}"
        )
    try:
        numbers = np.array([parse_float(v) for v in rest.split()], dtype=np.float64)
    except ValueError as exc:
        raise DataError(
            f"non-numeric value ({exc})", path=path, record=f"line {line_no}", field=key
        ) from None
    shape = _SHAPES[canonical]
    if numbers.size != shape[0] * shape[1]:
        raise DataError(
            f"expected {shape[0] * shape[1]} numbers for a {shape[0]}x{shape[1]} matrix, got {numbers.size}",
            path=path,
            record=f"line {line_no}",
            field=key,
        )
    if not np.all(np.isfinite(numbers)):
        raise DataError("NaN or infinite value", path=path, record=f"line {line_no}", field=key)
    matrix = numbers.reshape(shape)
    if canonical in _RIGID:
        block = np.eye(3, 4)
        block[:, : shape[1]] = matrix
        rigid_from_matrix(block, path=path, record=f"line {line_no}", field=key)
    return canonical, matrix


def _check_required(values: dict[str, np.ndarray], path: str) -> None:
    """``DataError`` naming the first missing required key (with its other spellings)."""
    missing = [k for k in _REQUIRED if k not in values]
    if "R0_rect" in missing and "Tr_velo_to_cam" in missing:
        missing.remove("R0_rect")  # odometry calib.txt has no R0_rect: the Tr line is missing
    if missing:
        key = missing[0]
        spellings = sorted(k for k, v in _ALIASES.items() if v == key and k != key)
        also = f" (also spelled {', '.join(spellings)})" if spellings else ""
        raise DataError(f"missing calibration key {key}{also}", path=path, field=key)


def read_kitti_calib(path: str | Path) -> KittiCalib:
    """Read a KITTI calib file (object, tracking or odometry layout; either key spelling).

    Raises:
        DataError: missing file, a line that is not ``key: numbers`` (see the module
            docstring for skipped keys), a wrong number count, non-numeric or non-finite
            values, a rotation block that is not orthonormal to 1e-4, or a missing required
            key (``P2``, ``R0_rect``, ``Tr_velo_to_cam``); the message names the file, line
            and key. Bytes that are not UTF-8 fail their line as non-numbers (a leading UTF-8
            byte-order mark is dropped).
    """
    p = Path(path)
    try:
        # bytes, not read_text(): non-UTF-8 bytes become U+FFFD and fail their line's parse
        # (naming it), and a leading byte-order mark must not hide the first line's key
        text = p.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise DataError(f"cannot read calibration file: {exc.strerror}", path=str(p)) from exc
    values: dict[str, np.ndarray] = {}
    line_of: dict[str, int] = {}
    odometry_layout = False  # odometry calib.txt: P0..P3 and "Tr", no R0_rect
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        odometry_layout |= line.partition(":")[0].strip() == "Tr" or line.startswith("Tr ")
        parsed = _parse_line(line, path=str(p), line_no=line_no)
        if parsed is None:
            continue
        key, matrix = parsed
        if key in line_of:
            raise DataError(
                f"{key} given twice (lines {line_of[key]} and {line_no})",
                path=str(p),
                record=f"line {line_no}",
                field=key,
            )
        values[key], line_of[key] = matrix, line_no
    if odometry_layout and "R0_rect" not in values:
        values["R0_rect"] = np.eye(3)  # odometry: Tr already maps into the rectified camera
    _check_required(values, str(p))
    return KittiCalib(
        P={k: v for k, v in values.items() if k.startswith("P")},
        R0_rect=values["R0_rect"],
        Tr_velo_to_cam=values["Tr_velo_to_cam"],
        Tr_imu_to_velo=values.get("Tr_imu_to_velo"),
        path=str(p),
    )
