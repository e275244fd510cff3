"""Argoverse 2 map drivable area (``map/log_map_archive_*.json``, ``drivable_areas``).

The polygons are read (and united) with no dilation by
:func:`drivestack.eval.detection.av2_roi.read_drivable_area_roi`, the reader the AV2
evaluation's region of interest uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class DrivableAreaPolygons:
    """A drivable area as one (multi)polygon in the world frame.

    Attributes:
        geometry: a shapely (multi)polygon, world xy.
    """

    geometry: Any

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` planar distance (m) from ``(N, 2)`` world xy to the area (0 inside)."""
        import shapely

        xy = np.asarray(xy_world_m, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 0:
            return np.zeros(0)
        return np.asarray(shapely.distance(self.geometry, shapely.points(xy)), dtype=np.float64)


@dataclass(frozen=True)
class LazyAv2DrivableArea:
    """A log's drivable area read on the first :meth:`distance_m` call (a frame can carry it at
    no cost; a missing map file raises only then, naming the folder).

    Attributes:
        map_dir: the log's ``map/`` folder.
    """

    map_dir: Path

    @cached_property
    def area(self) -> DrivableAreaPolygons:
        """The polygons (read once); DataError naming the folder when the map is missing."""
        from drivestack.eval.detection.av2_roi import read_drivable_area_roi

        return DrivableAreaPolygons(read_drivable_area_roi(self.map_dir, dilation_m=0.0))

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` planar distance (m) from ``(N, 2)`` city xy to the drivable area."""
        return self.area.distance_m(xy_world_m)
