"""The HD-map priors a frame carries, seen from its sensor.

A frame of a log with an HD map may carry a ground surface, the drivable area and the lanes'
directions of travel (:class:`~drivestack.structures.sensor_frame.SensorFrame`), all in the
world frame. The detector's steps ask about sensor-frame points: :class:`MapPriors` holds the
frame's priors with the sensor's pose and answers in the sensor frame, and a step that is
switched on but finds its prior (or the pose) missing gets one error that names the step and
what is missing. The plain functions below do the same for a given prior and pose.

:data:`MAP_STEPS` lists the config keys of those steps with the map layers each reads, and
:func:`map_steps_on` the ones a config switches on (:func:`map_steps_off` switches them all
off): a caller whose frames carry no map (every dataset reader but Argoverse 2's) refuses such
a config before the first frame, naming the key (:func:`check_map_steps`), instead of failing
at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from drivestack.core.errors import ConfigError, DataError
from drivestack.core.transforms import SE3
from drivestack.perception.lidar.config import LaneHeadingConfig, LidarDetectorConfig
from drivestack.perception.lidar.ground import PriorGround
from drivestack.structures.sensor_frame import (
    DrivableArea,
    GroundSurface,
    LaneHeadings,
    SensorFrame,
)

P = TypeVar("P")

#: The detector config keys of the steps that read the frame's map, with the map layers
#: (``SensorFrame`` fields) each needs; every one also needs the frame's ``world_from_ego``.
#: A step is on when its section's ``enabled`` is true (``ground.prior_surface``: not
#: ``"off"``).
MAP_STEPS: dict[str, tuple[str, ...]] = {
    "ground.prior_surface": ("ground_surface",),
    "classify.offroad": ("drivable_area",),
    "classify.far_vehicle": ("drivable_area",),
    "classify.lane_heading": ("lane_headings",),
    "large_vehicle_join": ("drivable_area", "lane_headings"),
}


def map_steps_on(cfg: LidarDetectorConfig) -> list[str]:
    """The keys of :data:`MAP_STEPS` that ``cfg`` switches on, in that order."""
    on = []
    for key in MAP_STEPS:
        value: Any = cfg
        for part in key.split("."):
            value = getattr(value, part)
        if value != "off" if isinstance(value, str) else bool(value.enabled):
            on.append(key)
    return on


def map_steps_off(cfg: LidarDetectorConfig) -> LidarDetectorConfig:
    """``cfg`` with every step of :data:`MAP_STEPS` off: ``ground.prior_surface`` ``"off"``,
    each other step's section back to its defaults (off); the rest as it is."""

    def off(owner: Any, parts: list[str]) -> Any:
        name, *rest = parts
        value = getattr(owner, name)
        if rest:
            return replace(owner, **{name: off(value, rest)})
        return replace(owner, **{name: "off" if isinstance(value, str) else type(value)()})

    for key in MAP_STEPS:
        cfg = off(cfg, key.split("."))
    return cfg


def check_map_steps(cfg: LidarDetectorConfig, path: str | Path, has_map: bool, frames: str) -> None:
    """Before any frame: a config that switches on a step reading the map (:data:`MAP_STEPS`)
    when the frames carry no map (``has_map`` false) is a ConfigError naming the config file
    ``path`` and the first such key; ``frames`` says whose frames (``--dataset kitti``).
    Nothing when ``has_map``: a frame that lacks a layer all the same fails at that frame."""
    on = map_steps_on(cfg)
    if has_map or not on:
        return
    others = f" (also {', '.join(on[1:])})" if len(on) > 1 else ""
    raise ConfigError(
        f"is on{others}, but the frames of {frames} carry no map ("
        f"{', '.join(sorted({layer for key in on for layer in MAP_STEPS[key]}))}): this "
        "config is for frames with an HD map (Argoverse 2); turn these steps off or pick "
        "this dataset's config",
        path=str(path),
        field=on[0],
    )


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
        source: the frame's ``source`` (its file), named in the errors; None when unknown.
    """

    world_from_sensor: SE3 | None = None
    drivable_area: DrivableArea | None = None
    lane_headings: LaneHeadings | None = None
    ground_surface: GroundSurface | None = None
    source: str | None = field(default=None, compare=False)

    @classmethod
    def of_frame(cls, frame: SensorFrame, world_from_sensor: SE3 | None) -> MapPriors:
        """The priors ``frame`` carries, seen from a sensor at ``world_from_sensor``."""
        return cls(
            world_from_sensor,
            frame.drivable_area,
            frame.lane_headings,
            frame.ground_surface,
            frame.source or None,
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
            DataError: (a ValueError) naming the frame's source: the frame carries no
                drivable area or no world pose.
        """
        return self._placed(self.drivable_area, "drivable_area", step)

    def lanes(self, step: str) -> tuple[LaneHeadings, SE3]:
        """The lane headings and the pose, for ``step`` (a config key, named in the error).

        Raises:
            DataError: (a ValueError) naming the frame's source: the frame carries no lane
                headings or no world pose.
        """
        return self._placed(self.lane_headings, "lane_headings", step)

    def _placed(self, prior: P | None, name: str, step: str) -> tuple[P, SE3]:
        """``(prior, world_from_sensor)``; DataError naming the frame's source, ``step`` and
        the missing ``name`` or pose."""
        if prior is None or self.world_from_sensor is None:
            missing = [name] if prior is None else []
            missing += ["world_from_ego pose"] if self.world_from_sensor is None else []
            raise DataError(
                f"{step} is on but the frame carries no {' and no '.join(missing)}",
                path=self.source,
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
