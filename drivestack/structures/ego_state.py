"""EgoState: the ego vehicle's kinematic state at one time."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivestack.core.frames import check_frame
from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE2, SE3, wrap_angle
from drivestack.structures._checks import check_number


@dataclass(frozen=True)
class EgoState:
    """Rear-axle pose and motion of the ego vehicle in ``frame`` (usually ``world``/``map``).

    ``speed_mps`` is signed along the heading; ``steering_rad`` is the front-wheel angle.
    The numeric fields take finite real numbers (Python or NumPy ints and floats, stored as
    ``float``): ``TypeError`` naming the field for a bool, a string or an array, ``ValueError``
    for NaN or an infinity.
    """

    timestamp_ns: int
    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float = 0.0
    acceleration_mps2: float = 0.0
    yaw_rate_radps: float = 0.0
    steering_rad: float = 0.0
    frame: str = "world"

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "timestamp_ns",
            check_timestamp_ns(self.timestamp_ns, argument="EgoState.timestamp_ns"),
        )
        check_frame(self.frame, argument="EgoState.frame")
        for name in (
            "x_m",
            "y_m",
            "yaw_rad",
            "speed_mps",
            "acceleration_mps2",
            "yaw_rate_radps",
            "steering_rad",
        ):
            value = getattr(self, name)
            if type(value) is not float or not math.isfinite(value):  # else: stored as it is
                check_number(f"EgoState.{name}", value)  # raises unless a finite real number
                object.__setattr__(self, name, float(value))
        object.__setattr__(self, "yaw_rad", float(wrap_angle(self.yaw_rad)))

    @property
    def frame_from_ego_se2(self) -> SE2:
        """``world_from_ego`` in the plane."""
        return SE2(np.asarray(self.yaw_rad), np.array([self.x_m, self.y_m]))

    @property
    def frame_from_ego(self) -> SE3:
        """``world_from_ego`` in 3D (z = 0: the ego origin is on the ground)."""
        return SE3.from_xyz_yaw([self.x_m, self.y_m, 0.0], self.yaw_rad)
