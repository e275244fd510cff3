"""SensorFrame: the time-synchronised bundle one perception step consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

import numpy as np

from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.camera import CameraImage
from drivestack.structures.point_cloud import PointCloud


class GroundSurface(Protocol):
    """A prior ground surface in the world frame of ``SensorFrame.world_from_ego`` (e.g. an HD
    map's ground-height raster)."""

    def height_at(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` ground z (m) under ``(N, 2)`` world positions; NaN where unknown."""
        ...


class DrivableArea(Protocol):
    """The drivable area (roads, lanes, parking lanes) in the world frame of
    ``SensorFrame.world_from_ego`` (e.g. an HD map's drivable-area polygons)."""

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` planar distance (m) from ``(N, 2)`` world positions to the drivable area
        (0 inside); NaN where unknown."""
        ...

    def contains_xy(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` bool: the ``(N, 2)`` world positions inside the drivable area (a much
        cheaper question than :meth:`distance_m` for points beside it)."""
        ...


class LaneHeadings(Protocol):
    """The direction of travel of the lanes in the world frame of ``SensorFrame.world_from_ego``
    (e.g. an HD map's lane segments)."""

    def heading_rad(
        self, xy_world_m: np.ndarray, max_distance_m: float, max_spread_rad: float
    ) -> np.ndarray:
        """``(N,)`` world heading (rad) of the nearest lane to ``(N, 2)`` world positions; NaN
        where no lane lies within ``max_distance_m`` or where the lanes within it differ by more
        than ``max_spread_rad`` modulo 180 degrees."""
        ...


@dataclass(frozen=True)
class SensorFrame:
    """Everything known at one key time (usually a LiDAR sweep's).

    Attributes:
        timestamp_ns: key time.
        lidars: name -> PointCloud (already in the frame their ``frame`` says).
        cameras: name -> CameraImage.
        ego_from_sensor: sensor name -> extrinsic (``ego_from_lidar`` etc.).
        world_from_ego: ego pose at ``timestamp_ns`` if known.
        labels: ground-truth boxes if the log has them (for evaluation only).
        source: where the frame came from (file, sequence, index) for error messages.
        ground_surface: a prior ground surface (world frame) if the log has one (an HD map's
            ground heights); used only with ``world_from_ego``.
        drivable_area: the drivable area (world frame) if the log's map has one; used only
            with ``world_from_ego``.
        lane_headings: the lanes' directions of travel (world frame) if the log's map has
            lanes; used only with ``world_from_ego``.
    """

    timestamp_ns: int
    lidars: Mapping[str, PointCloud] = field(default_factory=dict)
    cameras: Mapping[str, CameraImage] = field(default_factory=dict)
    ego_from_sensor: Mapping[str, SE3] = field(default_factory=dict)
    world_from_ego: SE3 | None = None
    labels: Boxes3D | None = None
    source: str = ""
    ground_surface: GroundSurface | None = None
    drivable_area: DrivableArea | None = None
    lane_headings: LaneHeadings | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "timestamp_ns",
            check_timestamp_ns(self.timestamp_ns, argument="SensorFrame.timestamp_ns"),
        )
        for field_name, kind, example in (
            ("lidars", "PointCloud", "{'top': cloud}"),
            ("cameras", "CameraImage", "{'front': image}"),
            ("ego_from_sensor", "SE3", "{'top': ego_from_top}"),
        ):
            value = getattr(self, field_name)
            if not isinstance(value, Mapping):
                raise TypeError(
                    f"SensorFrame.{field_name} must be a mapping of sensor name -> {kind}, "
                    f"got {type(value).__name__}; e.g. {field_name}={example}"
                )
        for name, cloud in self.lidars.items():
            if not isinstance(cloud, PointCloud):
                raise TypeError(
                    f"SensorFrame.lidars[{name!r}] must be a PointCloud, got {type(cloud).__name__}"
                )
        for name, image in self.cameras.items():
            if not isinstance(image, CameraImage):
                raise TypeError(
                    f"SensorFrame.cameras[{name!r}] must be a CameraImage, got {type(image).__name__}"
                )
        if self.world_from_ego is not None and self.world_from_ego.batch_shape:
            raise ValueError("SensorFrame.world_from_ego must be a single SE3")
        object.__setattr__(self, "lidars", MappingProxyType(dict(self.lidars)))
        object.__setattr__(self, "cameras", MappingProxyType(dict(self.cameras)))
        object.__setattr__(self, "ego_from_sensor", MappingProxyType(dict(self.ego_from_sensor)))

    def lidar(self, name: str | None = None) -> PointCloud:
        """The named LiDAR cloud, or the only one when ``name`` is None."""
        if name is None:
            if len(self.lidars) != 1:
                raise KeyError(
                    f"SensorFrame has {len(self.lidars)} LiDARs ({sorted(self.lidars)}); name one"
                )
            return next(iter(self.lidars.values()))
        try:
            return self.lidars[name]
        except KeyError:
            raise KeyError(
                f"SensorFrame has no LiDAR {name!r}; has {sorted(self.lidars)}"
            ) from None


def require_sensor_frame(frame: object, caller: str, lidar_name: str = "top") -> SensorFrame:
    """``frame`` when it is a :class:`SensorFrame`.

    Raises:
        TypeError: naming ``caller`` (e.g. ``"LidarDetector.step"``) and what it got; a bare
            :class:`PointCloud` gets the line that wraps it under ``lidar_name``.
    """
    if isinstance(frame, SensorFrame):
        return frame
    message = f"{caller} expects a SensorFrame, got {type(frame).__name__}"
    if isinstance(frame, PointCloud):
        message += (
            f"; wrap the cloud: SensorFrame(cloud.timestamp_ns, lidars={{{lidar_name!r}: cloud}})"
        )
    raise TypeError(message)
