"""Lanelet2 OSM against SOURCES.md section 6 (371 lanelets, Karlsruhe)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import EARTH_RADIUS_M, project_latlon, read_lanelet2


def test_projection_hand_values() -> None:
    xy = project_latlon(np.array([49.0, 49.001, 49.0]), np.array([8.4, 8.4, 8.401]), (49.0, 8.4))
    np.testing.assert_allclose(xy[0], [0.0, 0.0])
    np.testing.assert_allclose(xy[1], [0.0, EARTH_RADIUS_M * math.radians(0.001)])  # 111.32 m north
    np.testing.assert_allclose(
        xy[2], [EARTH_RADIUS_M * math.cos(math.radians(49.0)) * math.radians(0.001), 0.0]
    )


@pytest.mark.data
def test_mapping_example(shared_data: Path) -> None:
    m = read_lanelet2(shared_data / "lanelet2" / "mapping_example.osm")
    # 371 lanelets, 60 of them two-way roads (one lane each way); 17 more road lanelets
    # tagged one_way=no are for bicycles and pedestrians only (participant:* tags)
    assert len(m) == 431
    assert len(m.crosswalks) == 8
    assert sum(lane.lane_type == "road" for lane in m.lanes) == 320 + 60
    for lane in m.lanes:  # successor / predecessor links agree both ways
        for s in lane.successors:
            assert lane.lane_id in m.lane(s).predecessors
    widths = [
        np.linalg.norm(lane.left_boundary_m[0] - lane.right_boundary_m[0])
        for lane in m.lanes
        if lane.lane_type == "road"
    ]
    assert 2.0 < float(np.median(widths)) < 6.0  # lanes are lane-wide: the projection is metric
    assert sum(bool(lane.successors) for lane in m.lanes) > 250
    # every lane's left boundary lies on its left
    lane = m.lanes[0]
    _, d = lane.project(
        lane.left_boundary_m[len(lane.left_boundary_m) // 2 : len(lane.left_boundary_m) // 2 + 1]
    )
    assert d[0] > 0


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm"
    bad.write_text(
        "<osm><node id='1' lat='49' lon='8'/><relation id='5'><tag k='type' v='lanelet'/></relation></osm>"
    )
    with pytest.raises(DataError, match="relation 5: field member"):
        read_lanelet2(bad)
