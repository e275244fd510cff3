"""The simulated camera casts its rays through pixel centres (``u + 0.5, v + 0.5``), so a
camera whose principal point is the image centre sees symmetrically about its optical axis."""

from __future__ import annotations

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import CameraModel


def _tiny_camera() -> CameraModel:
    # 4 x 4 pixels, focal 2 px: principal point (cx, cy) = (2, 2), the corner between the four
    # middle pixels; the camera at the ego origin looking along ego +x
    return CameraModel.looking_forward("c", 4, 4, focal_px=2.0, ego_from_camera_xyz_m=(0, 0, 0))


def test_the_corner_pixels_ray_passes_through_its_centre() -> None:
    origins, dirs, depth_per_m = _tiny_camera().pixel_rays(SE3.identity())
    assert dirs.shape == (16, 3) and np.all(origins == 0.0)
    # pixel (u, v) = (0, 0), centre (0.5, 0.5): K^-1 (0.5, 0.5, 1) = ((0.5 - 2) / 2,
    # (0.5 - 2) / 2, 1) = (-0.75, -0.75, 1), of length sqrt(2.125) = 1.457738; the camera
    # depth per metre along it is 1 / 1.457738 = 0.685994 (through the pixel's corner (0, 0)
    # it would be (-1, -1, 1), 0.577350). Camera x right = -ego y, y down = -ego z,
    # z forward = ego x: the unit ray in the ego (here world) frame is
    # (1, 0.75, 0.75) / 1.457738 = (0.685994, 0.514496, 0.514496), up and to the left.
    np.testing.assert_allclose(depth_per_m[0], 0.685994, atol=1e-6)
    np.testing.assert_allclose(dirs[0], [0.685994, 0.514496, 0.514496], atol=1e-6)
    # the opposite corner (3, 3), centre (3.5, 3.5): (0.75, 0.75, 1), down and to the right
    np.testing.assert_allclose(depth_per_m[15], 0.685994, atol=1e-6)
    np.testing.assert_allclose(dirs[15], [0.685994, -0.514496, -0.514496], atol=1e-6)


def test_rays_are_symmetric_about_the_optical_axis() -> None:
    _, dirs, depth_per_m = _tiny_camera().pixel_rays(SE3.identity())
    # pixel centres at 0.5, 1.5, 2.5, 3.5 lie symmetrically about cx = cy = 2: the rays' mean
    # points straight along the optical axis (ego +x), and the image's depth per metre is
    # symmetric (the four middle pixels' rays, (+-0.25, +-0.25, 1), are the closest to the axis)
    mean = dirs.mean(axis=0)
    np.testing.assert_allclose(mean[1:], 0.0, atol=1e-12)
    grid = depth_per_m.reshape(4, 4)
    np.testing.assert_allclose(grid, grid[::-1, ::-1], atol=1e-12)
    np.testing.assert_allclose(grid[1:3, 1:3], 1.0 / np.sqrt(1.125), atol=1e-9)
