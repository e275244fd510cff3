"""RoadMap.distance_outside_drivable_m on a map with no drivable area (no lanes, only
non-drivable lanes): a ValueError naming the map's missing drivable area, never the NaN
shapely gives (a NaN passes ``<=`` / ``>`` tests silently: "on the road" to every caller)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon

from drivestack.structures.road_map import RoadMap

from ._helpers import straight_lane


@pytest.mark.parametrize(
    "points",
    [[[0.0, 0.0]], [[0.0, 0.0], [50.0, 3.0]], np.empty((0, 2))],
    ids=["one", "two", "none"],
)
def test_no_lanes_is_a_value_error(points: object) -> None:
    with pytest.raises(ValueError, match="RoadMap has no drivable area"):
        RoadMap(()).distance_outside_drivable_m(points)


def test_only_non_drivable_lanes_is_a_value_error_naming_the_source() -> None:
    sidewalk = straight_lane("walk", 0.0, 100.0, 0.0, lane_type="sidewalk")
    road_map = RoadMap((sidewalk,), source="town.osm")
    assert road_map.drivable_area.is_empty
    with pytest.raises(ValueError, match=r"RoadMap 'town.osm' has no drivable area"):
        road_map.distance_outside_drivable_m([[50.0, 0.0]])


def test_extra_drivable_areas_alone_are_a_drivable_area() -> None:
    # a 10 m square, no lanes: (13, 14) is 3-4-5 from its corner (10, 10)
    square = Polygon([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)])
    road_map = RoadMap((), extra_drivable_areas=(square,))
    got = road_map.distance_outside_drivable_m([[5.0, 5.0], [13.0, 14.0], [10.0, 2.0]])
    np.testing.assert_array_equal(got, [0.0, 5.0, 0.0])
