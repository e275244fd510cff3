"""Pinhole camera rendered by ray casting: RGB, depth and instance-id images of a SensorScene.

One ray per pixel centre through the intrinsics (no distortion), from the camera pose
``world_from_ego @ ego_from_camera``. RGB is the hit material's albedo shaded by the
incidence angle; depth is the camera-frame z (m, 0 where nothing is hit); instance ids are
0 for background and 1..N for the scene's agents in order.

The scene's traffic lights are drawn too: a lit lamp in its colour
(:data:`~drivestack.sim.sensors.scene.LAMP_RGB`, unshaded), unlit lamps and housings dark, by
the ``light_states`` given to the rendering (a light not given: all lamps dark); the
rendering's ``emissive`` mask marks the lit lamps' pixels (light sources, for
:mod:`~drivestack.sim.sensors.camera_effects`: the camera itself is ideal).
``window=(u0, v0, u1, v1)`` renders only that part of the image (rays through those pixel
centres only: a light's ROI of a high-resolution camera costs its own pixels, not the
image's); its pixels equal the same pixels of the full rendering.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.perception.camera.traffic_light_state import LIT_SLOTS
from drivestack.sim.sensors.scene import ALBEDO, LAMP_RGB, Material, SensorScene
from drivestack.structures._checks import check_number
from drivestack.structures.camera import CameraCalibration, CameraImage


@dataclass(frozen=True)
class RenderedImages:
    """One rendering: ``rgb`` as a CameraImage, ``depth_m (H, W)`` float32, ``instance (H, W)``
    int32, and ``emissive (H, W)`` bool, the pixels of lit lamps (light sources, not lit
    surfaces: :mod:`~drivestack.sim.sensors.camera_effects` keeps them bright at night)."""

    rgb: CameraImage
    depth_m: np.ndarray
    instance: np.ndarray
    emissive: np.ndarray


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
        pitch_up_rad: float = 0.0,
    ) -> CameraModel:
        """A forward camera (optical axis along ego +x, tilted ``pitch_up_rad`` up towards
        ego +z; ``ValueError`` outside ``(-pi/2, pi/2)``) at a mounting position in the ego
        frame."""
        if focal_px <= 0:
            raise ValueError(f"camera {name!r}: focal length must be positive, got {focal_px}")
        if not abs(pitch_up_rad) < np.pi / 2:
            raise ValueError(
                f"camera {name!r}: pitch_up_rad must be within (-pi/2, pi/2), got {pitch_up_rad}"
            )
        k = np.array(
            [[focal_px, 0.0, width_px / 2.0], [0.0, focal_px, height_px / 2.0], [0.0, 0.0, 1.0]]
        )
        # camera x right = -ego y, camera y down = -ego z, camera z forward = ego x
        rot = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
        ego_rot = rot.T
        if pitch_up_rad != 0.0:  # rotate about ego y: the optical axis (ego x) up towards ego z
            c, s = np.cos(pitch_up_rad), np.sin(pitch_up_rad)
            ego_rot = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]]) @ ego_rot
        ego_from_camera = SE3(ego_rot, np.asarray(ego_from_camera_xyz_m, dtype=np.float64))
        cal = CameraCalibration(
            name, k, width_px, height_px, ego_from_camera.inverse(), f"camera_{name}"
        )
        return cls(cal)

    def _window_rays(
        self, window: tuple[int, int, int, int], stride: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Unit directions ``(h * w, 3)`` through the centres of every ``stride``-th pixel of
        ``[u0, u1) x [v0, v1)`` of ``window`` in the camera frame, row-major, and the camera
        depth per metre along each ``(h * w,)`` (each pixel's ray computed alone: a window's
        rays are the same numbers as the full image's)."""
        u0, v0, u1, v1 = window
        k_inv = np.linalg.inv(self.calibration.intrinsics)
        u, v = np.meshgrid(np.arange(u0, u1, stride) + 0.5, np.arange(v0, v1, stride) + 0.5)
        # per pixel k_inv @ [u, v, 1], written out (no BLAS blocking that depends on the size)
        dirs_cam = (
            k_inv[None, :, 0] * u.reshape(-1, 1)
            + k_inv[None, :, 1] * v.reshape(-1, 1)
            + k_inv[None, :, 2]
        )
        z_per_unit = 1.0 / np.sqrt(np.sum(dirs_cam * dirs_cam, axis=1))  # depth per metre
        dirs_cam *= z_per_unit[:, None]
        return dirs_cam, z_per_unit

    @cached_property
    def _camera_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_window_rays` of the whole image (read-only: they depend on the calibration
        alone, so every rendering shares them)."""
        cal = self.calibration
        dirs_cam, z_per_unit = self._window_rays((0, 0, cal.width_px, cal.height_px))
        for arr in (dirs_cam, z_per_unit):
            arr.setflags(write=False)
        return dirs_cam, z_per_unit

    def _check_window(self, window: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        """``window`` as ints; ``ValueError`` unless ``0 <= u0 < u1 <= W``, ``0 <= v0 < v1 <= H``."""
        cal = self.calibration
        try:
            u0, v0, u1, v1 = (int(x) for x in window)
        except (TypeError, ValueError):
            raise ValueError(f"window must be (u0, v0, u1, v1) pixels, got {window!r}") from None
        if not (0 <= u0 < u1 <= cal.width_px and 0 <= v0 < v1 <= cal.height_px):
            raise ValueError(
                f"window {window!r} must satisfy 0 <= u0 < u1 <= {cal.width_px} and "
                f"0 <= v0 < v1 <= {cal.height_px}"
            )
        return u0, v0, u1, v1

    def pixel_rays(
        self,
        world_from_ego: SE3,
        window: tuple[int, int, int, int] | None = None,
        stride: int = 1,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World rays through the pixel centres (of every ``stride``-th pixel of ``window``
        ``(u0, v0, u1, v1)`` only when given), row-major: origins ``(P, 3)``, unit directions
        ``(P, 3)`` and the camera depth per metre along each ``(P,)``."""
        cal = self.calibration
        if window is None and stride == 1:
            dirs_cam, z_per_unit = self._camera_rays
        else:
            full = (0, 0, cal.width_px, cal.height_px)
            dirs_cam, z_per_unit = self._window_rays(self._check_window(window or full), stride)
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

    def render(
        self,
        scene: SensorScene,
        world_from_ego: SE3,
        timestamp_ns: int,
        *,
        light_states: Mapping[str, str] | None = None,
        window: tuple[int, int, int, int] | None = None,
        stride: int = 1,
    ) -> RenderedImages:
        """The images of ``scene`` from ``world_from_ego``: the whole image, or only
        ``window`` ``(u0, v0, u1, v1)``, of every ``stride``-th pixel in each direction
        (``(ceil((v1 - v0) / stride), ceil((u1 - u0) / stride))`` images, the full image's
        pixels ``[v0:v1:stride, u0:u1:stride]``, whose ``rgb`` is a :class:`CameraImage` with
        that window's calibration, :func:`window_calibration`). ``light_states``: light id ->
        signal state, for the scene's traffic lights' lamps."""
        cal = self.calibration
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"stride must be an int >= 1, got {stride!r}")
        u0, v0, u1, v1 = self._check_window(window or (0, 0, cal.width_px, cal.height_px))
        h, w = len(range(v0, v1, stride)), len(range(u0, u1, stride))
        origins, dirs, z_per_unit = self.pixel_rays(world_from_ego, window, stride)
        hits = scene.cast(origins, dirs, self.max_depth_m)
        material, range_m, normal = hits.material, hits.range_m, hits.normal
        emitted = np.zeros((0, 3))
        shows = np.zeros(len(range_m), dtype=bool)
        lights = scene.cast_lights(origins, dirs, self.max_depth_m)
        front = lights.range_m < range_m
        if np.any(front):
            material = np.where(front, lights.material, material)
            range_m = np.where(front, lights.range_m, range_m)
            normal = np.where(front[:, None], lights.normal, normal)
            lit = _lit_lamps(scene, light_states or {})
            shows = front & (lights.slot >= 0)
            shows[shows] = lit[lights.light[shows], lights.slot[shows]]
            emitted = np.asarray(LAMP_RGB, np.float64)[lights.slot[shows]]
        hit = np.isfinite(range_m)
        depth = np.where(hit, range_m * z_per_unit, 0.0).astype(np.float32).reshape(h, w)
        albedo = np.array([ALBEDO[Material(m)] for m in range(len(Material))], dtype=np.float64)
        shade = np.where(hit, 0.35 + 0.65 * np.abs(np.sum(normal * dirs, axis=1)), 1.0)
        colour = albedo[material] * shade[:, None]
        if len(emitted):
            colour[shows] = emitted
        rgb = np.clip(colour, 0, 255).astype(np.uint8).reshape(h, w, 3)
        instance = np.where(range_m < hits.range_m, 0, hits.instance)
        if window is not None or stride != 1:
            cal = window_calibration(cal, (u0, v0, u1, v1), stride)
        return RenderedImages(
            CameraImage(rgb, cal, int(timestamp_ns)),
            depth,
            instance.astype(np.int32).reshape(h, w),
            shows.reshape(h, w),
        )


def window_calibration(
    calibration: CameraCalibration, window: tuple[int, int, int, int], stride: int = 1
) -> CameraCalibration:
    """The calibration of the image of every ``stride``-th pixel of the window ``(u0, v0, u1,
    v1)`` of ``calibration``'s images (pixel ``i`` is the full image's ``u0 + stride i``):
    the same pose, focal lengths divided by ``stride``, the principal point ``(c - u0 -
    0.5) / stride + 0.5`` (``c - u0`` for stride 1)."""
    u0, v0, u1, v1 = window
    k = np.array(calibration.intrinsics, dtype=np.float64)
    k[0, 0] /= stride
    k[1, 1] /= stride
    k[0, 1] /= stride
    k[0, 2] = (k[0, 2] - u0 - 0.5) / stride + 0.5
    k[1, 2] = (k[1, 2] - v0 - 0.5) / stride + 0.5
    return dataclasses.replace(
        calibration,
        intrinsics=k,
        width_px=len(range(u0, u1, stride)),
        height_px=len(range(v0, v1, stride)),
    )


def _lit_lamps(scene: SensorScene, light_states: Mapping[str, str]) -> np.ndarray:
    """``(L, 3)`` bool: which lamp slots of each of ``scene``'s lights are lit by
    ``light_states`` (light id -> state; a light not given: none)."""
    lit = np.zeros((len(scene.light_priors), 3), dtype=bool)
    for i, prior in enumerate(scene.light_priors):
        state = light_states.get(prior.light_id, "unknown")
        try:
            lit[i, list(LIT_SLOTS[state])] = True
        except KeyError:
            raise ValueError(
                f"light_states[{prior.light_id!r}]: unknown signal state {state!r}; known: "
                f"{list(LIT_SLOTS)}"
            ) from None
    return lit
