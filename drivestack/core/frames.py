"""Coordinate frame identifiers.

Frames are data: every spatial container carries the frame it is expressed in,
and a transform is named ``dst_from_src`` so ``points_dst = dst_from_src.apply(points_src)``.

Conventions (see ARCHITECTURE.md):
- ``ego``: x forward, y left, z up; origin at the rear-axle centre on the ground.
- ``lidar``: the LiDAR sensor's own frame (x forward, y left, z up for the usual mounts).
- ``world``/``map``: a fixed, gravity-aligned frame (z up).
- camera frames (``camera_*``): x right, y down, z forward (optical axis).
"""

from __future__ import annotations

from typing import Final

FrameId = str

EGO: Final[FrameId] = "ego"
LIDAR: Final[FrameId] = "lidar"
WORLD: Final[FrameId] = "world"
MAP: Final[FrameId] = "map"
CAMERA_PREFIX: Final[str] = "camera"


def camera_frame(name: str) -> FrameId:
    """Frame id of a named camera: ``camera_frame("front") == "camera_front"``."""
    if not name:
        raise ValueError("camera name must be a non-empty string")
    return name if name.startswith(CAMERA_PREFIX) else f"{CAMERA_PREFIX}_{name}"


def is_camera_frame(frame: FrameId) -> bool:
    """True for frame ids made by :func:`camera_frame` (optical convention: x right, y down, z forward)."""
    return frame.startswith(CAMERA_PREFIX)


def check_frame(frame: object, *, argument: str = "frame") -> FrameId:
    """Validate a frame id: a non-empty string. Raises ``ValueError`` naming ``argument``."""
    if not isinstance(frame, str) or not frame:
        raise ValueError(f"{argument} must be a non-empty frame id string, got {frame!r}")
    return frame
