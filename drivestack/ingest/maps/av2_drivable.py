"""Argoverse 2 map drivable area (``map/log_map_archive_*.json``, ``drivable_areas``).

:func:`read_av2_drivable_area` unites the polygons (city frame); the AV2 evaluation's region
of interest (:mod:`drivestack.eval.detection.av2_roi`) is this area dilated by 5 m.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.ingest.maps.av2_archive import Av2MapArchive, read_av2_map_archive


def read_av2_drivable_area(map_dir: str | Path) -> Any:
    """The drivable area of a log (``map_dir/log_map_archive_*.json``) as one shapely
    (multi)polygon, city frame; DataError naming the folder when there is no map archive, or
    the file and field when its ``drivable_areas`` are malformed."""
    return drivable_area_of(read_av2_map_archive(map_dir))


def drivable_area_of(archive: Av2MapArchive) -> Any:
    """:func:`read_av2_drivable_area` of an archive already read."""
    import shapely

    def parse(areas: dict[str, Any]) -> list[Any]:
        return [
            shapely.Polygon([(v["x"], v["y"]) for v in area["area_boundary"]])
            for area in areas.values()
        ]

    polygons = archive.layer("drivable_areas", parse)
    return shapely.union_all([p.buffer(0) for p in polygons])


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

    def contains_xy(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` bool: ``(N, 2)`` world xy inside the area (a prepared geometry: ~1 us a
        point, against ~20 us for a distance on these maps)."""
        import shapely

        xy = np.asarray(xy_world_m, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 0:
            return np.zeros(0, dtype=bool)
        shapely.prepare(self.geometry)  # once: a no-op when already prepared
        return np.asarray(shapely.contains_xy(self.geometry, xy[:, 0], xy[:, 1]), dtype=bool)


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
        return DrivableAreaPolygons(read_av2_drivable_area(self.map_dir))

    def distance_m(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` planar distance (m) from ``(N, 2)`` city xy to the drivable area."""
        return self.area.distance_m(xy_world_m)

    def contains_xy(self, xy_world_m: np.ndarray) -> np.ndarray:
        """``(N,)`` bool: ``(N, 2)`` city xy inside the drivable area."""
        return self.area.contains_xy(xy_world_m)
