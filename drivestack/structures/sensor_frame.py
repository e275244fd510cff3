"""SensorFrame: the time-synchronised bundle one perception step consumes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

import numpy as np

from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE3, require_single_se3
from drivestack.core.value_equality import ArrayValueEquality
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


@dataclass(frozen=True, eq=False)
class SensorFrame(ArrayValueEquality):
    """Everything known at one key time (usually a LiDAR sweep's).

    Time: ``timestamp_ns`` is the frame's key time (the time of ``world_from_ego`` and of
    ``labels``); every sensor item keeps its own ``timestamp_ns``, which is not checked against
    it. The readers give the key LiDAR's cloud the frame's time (other sensors are matched to
    it within their sync tolerance). A stage that works on one sensor uses that sensor's time:
    :class:`~drivestack.perception.lidar.detector.LidarDetector` stamps its boxes with the
    cloud's ``timestamp_ns``, ages past sweeps from it and takes ``world_from_ego`` as the pose
    at that time (it warns when the two times are more than a 10 Hz sweep period apart).

    Attributes:
        timestamp_ns: key time (int64 ns).
        lidars: name -> PointCloud (already in the frame their ``frame`` says).
        cameras: name -> CameraImage.
        ego_from_sensor: sensor name -> extrinsic, a single :class:`~drivestack.core.transforms.SE3`
            (``ego_from_lidar`` etc.; from a 4x4 matrix: ``SE3.from_matrix(m)``).
        world_from_ego: ego pose at ``timestamp_ns`` if known (a single ``SE3``).
        labels: ground-truth boxes if the log has them (for evaluation only).
        source: where the frame came from (file, sequence, index) for error messages.
        ground_surface: a prior ground surface (world frame) if the log has one (an HD map's
            ground heights); used only with ``world_from_ego``.
        drivable_area: the drivable area (world frame) if the log's map has one; used only
            with ``world_from_ego``.
        lane_headings: the lanes' directions of travel (world frame) if the log's map has
            lanes; used only with ``world_from_ego``.
        label_ids: the ground-truth object id of each ``labels`` box, ``label_ids[i]`` for
            ``labels[i]``, as strings (a track id, track uuid or instance token): the same
            object keeps its id from frame to frame of one log, so a tracker's ids can be
            checked against it. ``None`` when the dataset has no ids (or the frame no
            labels); any sequence of ``str`` given is stored as a tuple. A stage that drops
            or reorders label boxes must drop or reorder the ids alongside (or set ``None``).
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
    label_ids: tuple[str, ...] | None = None

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
        for name, transform in self.ego_from_sensor.items():
            require_single_se3(transform, f"SensorFrame.ego_from_sensor[{name!r}]")
        if self.world_from_ego is not None:
            require_single_se3(self.world_from_ego, "SensorFrame.world_from_ego")
        if self.labels is not None and not isinstance(self.labels, Boxes3D):
            raise TypeError(
                f"SensorFrame.labels must be a Boxes3D or None, got {type(self.labels).__name__}"
            )
        if self.label_ids is not None:
            object.__setattr__(self, "label_ids", _check_label_ids(self.label_ids, self.labels))
        object.__setattr__(self, "lidars", MappingProxyType(dict(self.lidars)))
        object.__setattr__(self, "cameras", MappingProxyType(dict(self.cameras)))
        object.__setattr__(self, "ego_from_sensor", MappingProxyType(dict(self.ego_from_sensor)))

    def __repr__(self) -> str:
        """A one-line summary (sensor names, point counts, what is known), never the arrays."""
        clouds = ", ".join(
            f"{name!r}: {len(cloud)} points in {cloud.frame!r} at {cloud.timestamp_ns}"
            for name, cloud in self.lidars.items()
        )
        parts = [f"timestamp_ns={self.timestamp_ns}", f"lidars={{{clouds}}}"]
        if self.cameras:
            parts.append(f"cameras={sorted(self.cameras)}")
        parts.append(f"ego_from_sensor={sorted(self.ego_from_sensor)}")
        parts.append(f"world_from_ego={'set' if self.world_from_ego is not None else None}")
        if self.labels is not None:
            ids = " with ids" if self.label_ids is not None else ""
            parts.append(f"labels={len(self.labels)} boxes{ids}")
        priors = [
            name
            for name in ("ground_surface", "drivable_area", "lane_headings")
            if getattr(self, name) is not None
        ]
        if priors:
            parts.append(f"map priors={priors}")
        if self.source:
            parts.append(f"source={self.source!r}")
        return f"SensorFrame({', '.join(parts)})"

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


def _check_label_ids(value: object, labels: Boxes3D | None) -> tuple[str, ...]:
    """``value`` (a sequence of ``str``, one per label box) as a tuple of plain ``str``.

    Raises:
        TypeError: not a list / tuple / 1-D array, or an element that is not a ``str``.
        ValueError: no ``labels``, or a length different from ``len(labels)``.
    """
    argument = "SensorFrame.label_ids"
    is_array = isinstance(value, np.ndarray) and value.ndim == 1
    if isinstance(value, str | bytes) or not (isinstance(value, Sequence) or is_array):
        raise TypeError(
            f"{argument} must be a tuple of str (one per label box) or None, got "
            f"{type(value).__name__}"
        )
    items = list(value)  # type: ignore[call-overload]
    for i, item in enumerate(items):
        if not isinstance(item, str):
            hint = "; convert ids with str(track_id)" if isinstance(item, int | np.integer) else ""
            raise TypeError(
                f"{argument}[{i}] must be a str, got {type(item).__name__} {item!r}{hint}"
            )
    if labels is None:
        raise ValueError(f"{argument} given ({len(items)} ids) but SensorFrame.labels is None")
    if len(items) != len(labels):
        raise ValueError(
            f"{argument} has {len(items)} ids but SensorFrame.labels has {len(labels)} boxes; "
            "give one id per label box"
        )
    return tuple(str(item) for item in items)


def require_sensor_frame(frame: object, caller: str, lidar_name: str | None = None) -> SensorFrame:
    """``frame`` when it is a :class:`SensorFrame`.

    ``lidar_name``: the LiDAR name the caller looks up (a config's ``lidar_name``); None when
    it takes the frame's only LiDAR, whatever its name.

    Raises:
        TypeError: naming ``caller`` (e.g. ``"LidarDetector.step"``) and what it got; a bare
            :class:`PointCloud` gets the line that wraps it (under ``lidar_name``, or under
            ``'lidar'`` when any name will do).
    """
    if isinstance(frame, SensorFrame):
        return frame
    message = f"{caller} expects a SensorFrame, got {type(frame).__name__}"
    if isinstance(frame, PointCloud):
        name = "lidar" if lidar_name is None else lidar_name
        message += f"; wrap the cloud: SensorFrame(cloud.timestamp_ns, lidars={{{name!r}: cloud}})"
        if lidar_name is None:
            message += " (any name: the frame's only LiDAR is used)"
        else:
            message += f" (the config's lidar_name is {lidar_name!r})"
    raise TypeError(message)
