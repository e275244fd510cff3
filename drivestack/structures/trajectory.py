"""Trajectory: a timed sequence of planar states (a plan, a history or a forecast)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from drivestack.core.arrays import read_only
from drivestack.core.frames import check_frame
from drivestack.core.time import check_monotonic_ns
from drivestack.core.transforms import wrap_angle
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import frozen_array

_FIELDS = ("x_m", "y_m", "yaw_rad", "speed_mps", "acceleration_mps2", "curvature_1pm")


@dataclass(frozen=True, eq=False)
class Trajectory(ArrayValueEquality):
    """N samples with strictly increasing ``timestamp_ns (N,)`` int64 and ``(N,)`` float64 fields.

    ``curvature_1pm`` is the path curvature (1/m, positive turning left).
    """

    timestamp_ns: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    yaw_rad: np.ndarray
    speed_mps: np.ndarray
    acceleration_mps2: np.ndarray
    curvature_1pm: np.ndarray
    frame: str = "world"

    def __post_init__(self) -> None:
        check_frame(self.frame, argument="Trajectory.frame")
        t = check_monotonic_ns(self.timestamp_ns, argument="Trajectory.timestamp_ns")  # (N,)
        t = read_only(t, self.timestamp_ns)
        object.__setattr__(self, "timestamp_ns", t)
        n = t.shape[0]
        for name in _FIELDS:
            value = getattr(self, name)
            if (
                type(value) is np.ndarray
                and value.dtype == np.float64
                and value.shape == (n,)
                and bool(np.isfinite(value).all())
            ):
                # the common case (a planner's float64 arrays), as frozen_array treats it:
                # copied and frozen unless already read-only (handed over: kept)
                object.__setattr__(self, name, read_only(value, value))
            else:
                # converts or raises
                frozen_array(self, name, (n,), dtype=np.float64, rows_of="timestamp_ns")
        yaw = wrap_angle(self.yaw_rad)
        yaw.setflags(write=False)
        object.__setattr__(self, "yaw_rad", yaw)

    @classmethod
    def empty(cls, frame: str = "world") -> Trajectory:
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), z, z, z, z, z, z, frame)

    def __len__(self) -> int:
        return int(self.timestamp_ns.shape[0])

    @property
    def xy_m(self) -> np.ndarray:
        """``(N, 2)`` positions."""
        return np.stack([self.x_m, self.y_m], axis=1)

    def interpolate(self, timestamps_ns: np.ndarray) -> Trajectory:
        """Linear interpolation at the given times (clamped at the ends; yaw on the circle).

        ``timestamps_ns``: ``(M,)`` increasing integer nanoseconds (one integer: ``M = 1``).

        Raises:
            ValueError: an empty trajectory, or times that are not a 1-D increasing series
                of integers (a float time would be truncated, a NaN cast to garbage).
        """
        if len(self) == 0:
            raise ValueError("cannot interpolate an empty Trajectory")
        query = np.asarray(timestamps_ns)
        query = check_monotonic_ns(
            query.reshape(1) if query.ndim == 0 else query,
            argument="Trajectory.interpolate timestamps_ns",
        )
        t = self.timestamp_ns.astype(np.float64)
        q = query.astype(np.float64)

        def interp(values: np.ndarray) -> np.ndarray:
            return np.interp(q, t, values)

        yaw = np.unwrap(self.yaw_rad)
        return Trajectory(
            query,
            interp(self.x_m),
            interp(self.y_m),
            interp(yaw),
            interp(self.speed_mps),
            interp(self.acceleration_mps2),
            interp(self.curvature_1pm),
            self.frame,
        )
