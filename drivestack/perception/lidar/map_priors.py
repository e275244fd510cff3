"""The HD-map priors a frame carries, seen from its sensor.

A frame of a log with an HD map may carry a ground surface, the drivable area and the lanes'
directions of travel (:class:`~drivestack.structures.sensor_frame.SensorFrame`), all in the
world frame. The detector's steps ask about sensor-frame points: :class:`MapPriors` holds the
frame's priors with the sensor's pose and answers in the sensor frame, and a step that is
switched on but finds its prior (or the pose) missing gets one error that names the step and
what is missing. The plain functions below do the same for a given prior and pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import LaneHeadingConfig
from drivestack.perception.lidar.ground import PriorGround
from drivestack.structures.sensor_frame import (
    DrivableArea,
    GroundSurface,
    LaneHeadings,
    SensorFrame,
)

P = TypeVar("P")


def world_xy(points_m: np.ndarray, world_from_sensor: SE3) -> np.ndarray:
    """``(N, 2)`` world xy of ``(N, 3)`` sensor-frame points."""
    return world_from_sensor.apply(np.asarray(points_m, dtype=np.float64).reshape(-1, 3))[:, :2]


def distance_to_drivable_m(
    points_m: np.ndarray, drivable: DrivableArea, world_from_sensor: SE3
) -> np.ndarray:
    """``(N,)`` planar distance of ``(N, 3)`` sensor-frame points to the drivable area (0
    inside it, NaN where unknown)."""
    if len(points_m) == 0:
        return np.zeros(0)
    return np.asarray(drivable.distance_m(world_xy(points_m, world_from_sensor)), dtype=np.float64)


def on_drivable(points_m: np.ndarray, drivable: DrivableArea, world_from_sensor: SE3) -> np.ndarray:
    """``(N,)`` bool: the ``(N, 3)`` sensor-frame points inside the drivable area."""
    if len(points_m) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(drivable.contains_xy(world_xy(points_m, world_from_sensor)), dtype=bool)


def lane_yaw_rad(
    points_m: np.ndarray, lanes: LaneHeadings, world_from_sensor: SE3, cfg: LaneHeadingConfig
) -> np.ndarray:
    """``(N,)`` sensor-frame heading of the lanes at ``(N, 3)`` sensor-frame points (the
    world heading's direction turned into the sensor frame); NaN where the lanes give none
    (none within ``cfg.max_lane_distance_m``, or those within reach differ by more than
    ``cfg.max_lane_spread_deg``)."""
    if len(points_m) == 0:
        return np.zeros(0)
    heading = np.asarray(
        lanes.heading_rad(
            world_xy(points_m, world_from_sensor),
            cfg.max_lane_distance_m,
            np.deg2rad(cfg.max_lane_spread_deg),
        ),
        dtype=np.float64,
    )
    direction = np.stack([np.cos(heading), np.sin(heading), np.zeros(len(heading))], axis=1)
    local = direction @ world_from_sensor.rotation  # rows: R^T d
    return np.arctan2(local[:, 1], local[:, 0])


@dataclass(frozen=True)
class MapPriors:
    """One frame's map priors and the pose that places its sensor in their world frame.

    Attributes:
        world_from_sensor: the sensor's pose (None: the frame has no world pose, so no prior
            can be placed).
        drivable_area: the drivable area, world frame, or None.
        lane_headings: the lanes' directions of travel, world frame, or None.
        ground_surface: a prior ground surface (an HD map's ground heights), or None.
    """

    world_from_sensor: SE3 | None = None
    drivable_area: DrivableArea | None = None
    lane_headings: LaneHeadings | None = None
    ground_surface: GroundSurface | None = None

    @classmethod
    def of_frame(cls, frame: SensorFrame, world_from_sensor: SE3 | None) -> MapPriors:
        """The priors ``frame`` carries, seen from a sensor at ``world_from_sensor``."""
        return cls(
            world_from_sensor, frame.drivable_area, frame.lane_headings, frame.ground_surface
        )

    @property
    def ground(self) -> PriorGround | None:
        """The prior ground surface seen from the sensor; None without a surface or a pose."""
        if self.ground_surface is None or self.world_from_sensor is None:
            return None
        return PriorGround(self.ground_surface, self.world_from_sensor)

    def drivable(self, step: str) -> tuple[DrivableArea, SE3]:
        """The drivable area and the pose, for ``step`` (a config key, named in the error).

        Raises:
            ValueError: the frame carries no drivable area or no world pose.
        """
        return self._placed(self.drivable_area, "drivable_area", step)

    def lanes(self, step: str) -> tuple[LaneHeadings, SE3]:
        """The lane headings and the pose, for ``step`` (a config key, named in the error).

        Raises:
            ValueError: the frame carries no lane headings or no world pose.
        """
        return self._placed(self.lane_headings, "lane_headings", step)

    def _placed(self, prior: P | None, name: str, step: str) -> tuple[P, SE3]:
        """``(prior, world_from_sensor)``; ValueError naming ``step`` and the missing ``name``
        or pose."""
        if prior is None or self.world_from_sensor is None:
            raise ValueError(
                f"{step} is on but the frame carries no {name} or no world_from_ego pose"
            )
        return prior, self.world_from_sensor

    def distance_to_drivable_m(self, points_m: np.ndarray, step: str) -> np.ndarray:
        """:func:`distance_to_drivable_m` of ``(N, 3)`` sensor-frame points (see
        :meth:`drivable` for ``step``)."""
        return distance_to_drivable_m(points_m, *self.drivable(step))

    def on_drivable(self, points_m: np.ndarray, step: str) -> np.ndarray:
        """:func:`on_drivable` of ``(N, 3)`` sensor-frame points (see :meth:`drivable`)."""
        return on_drivable(points_m, *self.drivable(step))

    def lane_yaw_rad(self, points_m: np.ndarray, cfg: LaneHeadingConfig, step: str) -> np.ndarray:
        """:func:`lane_yaw_rad` at ``(N, 3)`` sensor-frame points (see :meth:`lanes`)."""
        lanes, world_from_sensor = self.lanes(step)
        return lane_yaw_rad(points_m, lanes, world_from_sensor, cfg)
