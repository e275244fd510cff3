"""Pinhole camera rendered by ray casting: RGB, depth and instance-id images of a SensorScene.

One ray per pixel centre through the intrinsics (no distortion), from the camera pose
``world_from_ego @ ego_from_camera``. RGB is the hit material's albedo shaded by the
incidence angle; depth is the camera-frame z (m, 0 where nothing is hit); instance ids are
0 for background and 1..N for the scene's agents in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.sim.sensors.scene import ALBEDO, Material, SensorScene
from drivestack.structures._checks import check_number
from drivestack.structures.camera import CameraCalibration, CameraImage


@dataclass(frozen=True)
class RenderedImages:
    """One rendering: ``rgb`` as a CameraImage, ``depth_m (H, W)`` float32, ``instance (H, W)`` int32."""

    rgb: CameraImage
    depth_m: np.ndarray
    instance: np.ndarray


@dataclass(frozen=True)
class CameraModel:
    """A camera with a calibration (intrinsics, size, ``camera_from_ego``) and a far limit."""

    calibration: CameraCalibration
    max_depth_m: float = 200.0

    def __post_init__(self) -> None:
        # NaN casts without a limit, 0 or less sees nothing
        check_number("CameraModel.max_depth_m", self.max_depth_m, above=0.0)

    @classmethod
    def looking_forward(
        cls,
        name: str,
        width_px: int,
        height_px: int,
        focal_px: float,
        ego_from_camera_xyz_m: tuple[float, float, float],
    ) -> CameraModel:
        """A forward camera (optical axis along ego +x) at a mounting position in the ego frame."""
        if focal_px <= 0:
            raise ValueError(f"camera {name!r}: focal length must be positive, got {focal_px}")
        k = np.array(
            [[focal_px, 0.0, width_px / 2.0], [0.0, focal_px, height_px / 2.0], [0.0, 0.0, 1.0]]
        )
        # camera x right = -ego y, camera y down = -ego z, camera z forward = ego x
        rot = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
        ego_from_camera = SE3(rot.T, np.asarray(ego_from_camera_xyz_m, dtype=np.float64))
        cal = CameraCalibration(
            name, k, width_px, height_px, ego_from_camera.inverse(), f"camera_{name}"
        )
        return cls(cal)

    @cached_property
    def _camera_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit directions ``(H * W, 3)`` through the pixel centres in the camera frame,
        row-major, and the camera depth per metre along each ``(H * W,)`` (read-only: they
        depend on the calibration alone, so every rendering shares them)."""
        cal = self.calibration
        h, w = cal.height_px, cal.width_px
        k_inv = np.linalg.inv(cal.intrinsics)
        u, v = np.meshgrid(np.arange(w) + 0.5, np.arange(h) + 0.5)
        pix = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3)
        dirs_cam = pix @ k_inv.T
        z_per_unit = 1.0 / np.linalg.norm(dirs_cam, axis=1)  # depth per metre along the ray
        dirs_cam *= z_per_unit[:, None]
        for arr in (dirs_cam, z_per_unit):
            arr.setflags(write=False)
        return dirs_cam, z_per_unit

    def pixel_rays(self, world_from_ego: SE3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World rays through the pixel centres, row-major: origins ``(H * W, 3)``, unit
        directions ``(H * W, 3)`` and the camera depth per metre along each ``(H * W,)``."""
        cal = self.calibration
        dirs_cam, z_per_unit = self._camera_rays
        world_from_camera = world_from_ego.compose(cal.camera_from_ego.inverse())
        dirs = world_from_camera.rotate(dirs_cam)
        origins = np.ascontiguousarray(np.broadcast_to(world_from_camera.translation, dirs.shape))
        return origins, dirs, z_per_unit

    def visible_fraction(
        self, scene: SensorScene, world_from_ego: SE3, rendered: RenderedImages
    ) -> np.ndarray:
        """``(N,)`` share of each scene agent's silhouette in the image that ``rendered`` (this
        camera's rendering of ``scene`` from ``world_from_ego``) shows, i.e. not hidden by other
        agents or static objects (NaN for an agent with no pixel in the image)."""
        origins, dirs, _ = self.pixel_rays(world_from_ego)
        silhouette = scene.agent_ray_counts(origins, dirs, self.max_depth_m)
        n = len(silhouette)
        seen = np.bincount(rendered.instance.reshape(-1), minlength=n + 1)[1 : n + 1]
        return np.where(silhouette > 0, seen / np.maximum(silhouette, 1), np.nan)

    def render(self, scene: SensorScene, world_from_ego: SE3, timestamp_ns: int) -> RenderedImages:
        cal = self.calibration
        h, w = cal.height_px, cal.width_px
        origins, dirs, z_per_unit = self.pixel_rays(world_from_ego)
        hits = scene.cast(origins, dirs, self.max_depth_m)
        hit = np.isfinite(hits.range_m)
        depth = np.where(hit, hits.range_m * z_per_unit, 0.0).astype(np.float32).reshape(h, w)
        albedo = np.array([ALBEDO[Material(m)] for m in range(len(Material))], dtype=np.float64)
        shade = np.where(hit, 0.35 + 0.65 * np.abs(np.sum(hits.normal * dirs, axis=1)), 1.0)
        rgb = (
            np.clip(albedo[hits.material] * shade[:, None], 0, 255)
            .astype(np.uint8)
            .reshape(h, w, 3)
        )
        return RenderedImages(
            CameraImage(rgb, cal, int(timestamp_ns)),
            depth,
            hits.instance.astype(np.int32).reshape(h, w),
        )
