"""Road-map readers and builders: synthetic roads from code, CommonRoad XML, Lanelet2 OSM,
OpenDRIVE, Argoverse 2 map layers.

- :func:`build_synthetic_map` (or :func:`straight_road`, :func:`curved_road`,
  :func:`four_way_intersection`, :func:`merge_road`; bad arguments raise
  :class:`MapParamError`) -> :class:`~drivestack.structures.road_map.RoadMap`;
- :func:`read_commonroad` -> :class:`CommonRoadScenario` (map, obstacles, planning problem);
- :func:`read_lanelet2` -> ``RoadMap``;
- :func:`read_opendrive` (``.xodr``) -> ``RoadMap`` (:func:`parse_opendrive` keeps the parsed
  roads: ``OpenDriveNetwork.road_map()`` and ``.locate()`` for OpenDRIVE lane positions);
- Argoverse 2 logs' ``map/`` folder: :func:`read_av2_road_map` (the vector map's lanes and
  crosswalks -> ``RoadMap`` in the city frame), :func:`read_av2_lanes`,
  :func:`read_av2_drivable_area`, :func:`read_av2_ground_height`.

The names below import their module on first use (``from drivestack.ingest.maps import
read_lanelet2``), so importing the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from drivestack.ingest.maps.av2_drivable import DrivableAreaPolygons, read_av2_drivable_area
    from drivestack.ingest.maps.av2_ground import GroundHeightRaster, read_av2_ground_height
    from drivestack.ingest.maps.av2_lanes import LaneDirections, read_av2_lanes
    from drivestack.ingest.maps.av2_road_map import read_av2_road_map
    from drivestack.ingest.maps.commonroad import CommonRoadScenario, read_commonroad
    from drivestack.ingest.maps.lanelet2 import read_lanelet2
    from drivestack.ingest.maps.opendrive import OpenDriveNetwork, parse_opendrive, read_opendrive
    from drivestack.ingest.maps.synthetic import (
        MapParamError,
        build_synthetic_map,
        curved_road,
        four_way_intersection,
        merge_road,
        straight_road,
    )

#: exported name -> its module under this package (imported on first use)
_EXPORTS = {
    "DrivableAreaPolygons": "av2_drivable",
    "read_av2_drivable_area": "av2_drivable",
    "GroundHeightRaster": "av2_ground",
    "read_av2_ground_height": "av2_ground",
    "LaneDirections": "av2_lanes",
    "read_av2_lanes": "av2_lanes",
    "read_av2_road_map": "av2_road_map",
    "CommonRoadScenario": "commonroad",
    "read_commonroad": "commonroad",
    "read_lanelet2": "lanelet2",
    "read_opendrive": "opendrive",
    "parse_opendrive": "opendrive",
    "OpenDriveNetwork": "opendrive",
    "MapParamError": "synthetic",
    "build_synthetic_map": "synthetic",
    "curved_road": "synthetic",
    "four_way_intersection": "synthetic",
    "merge_road": "synthetic",
    "straight_road": "synthetic",
}
__all__ = [
    "CommonRoadScenario",
    "DrivableAreaPolygons",
    "GroundHeightRaster",
    "LaneDirections",
    "MapParamError",
    "OpenDriveNetwork",
    "build_synthetic_map",
    "curved_road",
    "four_way_intersection",
    "merge_road",
    "parse_opendrive",
    "read_av2_drivable_area",
    "read_av2_ground_height",
    "read_av2_lanes",
    "read_av2_road_map",
    "read_commonroad",
    "read_lanelet2",
    "read_opendrive",
    "straight_road",
]
__getattr__ = lazy_exports(__name__, _EXPORTS)
__dir__ = lazy_dir(__name__, __all__)
