"""KITTI's LiDAR -> rectified camera transform is ``R0_rect @ Tr_velo_to_cam``: a LiDAR point is
first moved into camera 0 (``Tr_velo_to_cam``), then rectified (``R0_rect``).

The real files' ``R0_rect`` is within 0.01 rad of the identity, so the order of the product
hardly shows there; a synthetic calib with rotations about different axes (which do not
commute) and a translation tells the two orders apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.ingest.kitti_calib import read_kitti_calib

P2 = [7.2e02, 0.0, 6.0e02, 4.5e01, 0.0, 7.2e02, 1.7e02, 0.2, 0.0, 0.0, 1.0, 2.7e-03]
TRANSLATION_M = np.array([1.0, 2.0, 3.0])


def rot_x(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_z(angle_rad: float) -> np.ndarray:
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _numbers(values: np.ndarray | list[float]) -> str:
    return " ".join(repr(float(v)) for v in np.ravel(values))


def _homogeneous(block: np.ndarray) -> np.ndarray:
    """``(4, 4)`` of a ``(3, 3)`` rotation or ``(3, 4)`` rigid block."""
    out = np.eye(4)
    out[:3, : block.shape[1]] = block
    return out


def _write_calib(tmp_path: Path, r0_rect: np.ndarray, tr_velo_to_cam: np.ndarray) -> Path:
    path = tmp_path / "calib.txt"
    path.write_text(
        f"P2: {_numbers(P2)}\n"
        f"R0_rect: {_numbers(r0_rect)}\n"
        f"Tr_velo_to_cam: {_numbers(tr_velo_to_cam)}\n"
    )
    return path


def test_camera_rect_from_lidar_rectifies_after_the_lidar_to_camera_step(
    tmp_path: Path,
) -> None:
    r0_rect = rot_z(0.1)
    tr_velo_to_cam = np.column_stack([rot_x(0.2), TRANSLATION_M])
    assert not np.allclose(r0_rect @ rot_x(0.2), rot_x(0.2) @ r0_rect)  # the orders differ
    calib = read_kitti_calib(_write_calib(tmp_path, r0_rect, tr_velo_to_cam))
    expected = _homogeneous(r0_rect) @ _homogeneous(tr_velo_to_cam)
    np.testing.assert_allclose(calib.camera_rect_from_lidar_matrix(), expected, atol=1e-12)
    cam_from_lidar = calib.camera_rect_from_lidar()
    np.testing.assert_allclose(cam_from_lidar.as_matrix(), expected, atol=1e-12)
    # the LiDAR origin sits at Tr's translation in camera 0, rectified by R0_rect
    origin = cam_from_lidar.apply(np.zeros((1, 3)))[0]
    np.testing.assert_allclose(origin, r0_rect @ TRANSLATION_M, atol=1e-12)
    # a point 10 m along the LiDAR's x axis
    point = cam_from_lidar.apply(np.array([[10.0, 0.0, 0.0]]))[0]
    np.testing.assert_allclose(
        point, r0_rect @ (rot_x(0.2) @ [10.0, 0.0, 0.0] + TRANSLATION_M), atol=1e-12
    )
    # and back
    np.testing.assert_allclose(
        calib.lidar_from_camera_rect().apply(origin[None, :])[0], [0.0, 0.0, 0.0], atol=1e-12
    )
