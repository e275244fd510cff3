"""Camera calibration and images.

Camera frame: x right, y down, z forward. ``camera_from_ego`` maps ego-frame points into
the camera frame; pixel = K @ (x/z, y/z, 1) after distortion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from drivestack.core.arrays import read_only
from drivestack.core.frames import check_frame
from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE3, require_single_se3
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import frozen_array


@dataclass(frozen=True, eq=False)
class CameraCalibration(ArrayValueEquality):
    """Pinhole camera with OpenCV-style distortion.

    Attributes:
        name: camera name (e.g. ``"front"``, ``"image_02"``).
        intrinsics: ``(3, 3)`` K; positive focal lengths.
        width_px, height_px: image size.
        camera_from_ego: extrinsic, ego frame -> camera frame.
        distortion: ``(D,)`` OpenCV coefficients ``k1, k2, p1, p2[, k3, ...]`` (``D`` in
            {0, 4, 5, 8}); zeros mean none (rectified images).
        frame: the camera frame id.
    """

    name: str
    intrinsics: np.ndarray
    width_px: int
    height_px: int
    camera_from_ego: SE3
    frame: str
    distortion: np.ndarray = field(default_factory=lambda: np.zeros(5))

    def __post_init__(self) -> None:
        check_frame(self.frame, argument="CameraCalibration.frame")
        k = frozen_array(self, "intrinsics", (3, 3), dtype=np.float64)
        if k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(
                f"CameraCalibration {self.name!r}: focal lengths must be positive, got fx={k[0, 0]}, fy={k[1, 1]}"
            )
        if np.any(k[2] != [0.0, 0.0, 1.0]) or k[1, 0] != 0.0:
            raise ValueError(
                f"CameraCalibration {self.name!r}: intrinsics must be upper triangular with K[2] = (0,0,1)"
            )
        dist = frozen_array(self, "distortion", (None,), dtype=np.float64)
        if dist.shape[0] not in (0, 4, 5, 8):  # what the projection kernels evaluate
            raise ValueError(
                f"CameraCalibration {self.name!r}: distortion must have 0, 4, 5 or 8 coefficients "
                f"(OpenCV order k1 k2 p1 p2 [k3 [k4 k5 k6]]), got {dist.shape[0]}; the thin-prism "
                "and tilt terms of 12 or 14 are not modelled"
            )
        for dim in ("width_px", "height_px"):
            value = getattr(self, dim)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(
                    f"CameraCalibration {self.name!r}: {dim} must be a positive integer, got {value!r}"
                )
            object.__setattr__(self, dim, int(value))
        require_single_se3(
            self.camera_from_ego, f"CameraCalibration {self.name!r}: camera_from_ego"
        )

    @property
    def has_distortion(self) -> bool:
        return bool(np.any(self.distortion != 0.0))


@dataclass(frozen=True, eq=False)
class CameraImage(ArrayValueEquality):
    """One image: ``pixels (H, W, C)`` (C = 3 RGB, 4 RGBA or 1) or ``(H, W)``, of an integer or
    floating dtype: uint8 colour or grey, uint16 (16-bit PNG) or float32 depth (NaN allowed
    there: no return), as the readers decode them.

    Raises:
        TypeError: ``calibration`` is not a :class:`CameraCalibration`.
        ValueError: ``pixels`` of another shape (``C`` not 1, 3 or 4) or not a number dtype
            (bool, complex, object, text), or not of the calibration's size.
    """

    pixels: np.ndarray
    calibration: CameraCalibration
    timestamp_ns: int

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "timestamp_ns",
            check_timestamp_ns(self.timestamp_ns, argument="CameraImage.timestamp_ns"),
        )
        cal = self.calibration
        if not isinstance(cal, CameraCalibration):
            raise TypeError(
                f"CameraImage.calibration must be a CameraCalibration, got {type(cal).__name__}"
            )
        px = np.asarray(self.pixels)
        if px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] not in (1, 3, 4)):
            raise ValueError(
                "CameraImage.pixels must be (H, W) or (H, W, C) with C = 1, 3 or 4, "
                f"got shape {px.shape}"
            )
        if px.dtype.kind not in "uif":
            raise ValueError(
                f"CameraImage.pixels must hold integer or floating values, got {px.dtype}"
            )
        h, w = px.shape[:2]
        if (w, h) != (cal.width_px, cal.height_px):
            raise ValueError(
                f"CameraImage of camera {cal.name!r} is {w}x{h} px but its calibration says "
                f"{cal.width_px}x{cal.height_px} px"
            )
        object.__setattr__(self, "pixels", read_only(px, self.pixels))

    @property
    def frame(self) -> str:
        return self.calibration.frame
