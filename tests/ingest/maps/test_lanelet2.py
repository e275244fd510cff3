"""Lanelet2 OSM against SOURCES.md section 6 (371 lanelets, Karlsruhe)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import EARTH_RADIUS_M, project_latlon, read_lanelet2

# (origin lat/lon, (lat, lon, height m), Lanelet2's (east, north) m): made with lanelet2 1.2.3,
# LocalCartesianProjector(Origin(lat0, lon0)).forward(GPSPoint(lat, lon, height)) (x, y)
LANELET2_PROJECTED = [
    ((49.0, 8.4), (49.0, 8.4, 0.0), (0.0, 0.0)),
    ((49.0, 8.4), (49.001, 8.4, 0.0), (-4.474642878449231e-12, 111.20974768213864)),
    ((49.0, 8.4), (49.0, 8.401, 0.0), (73.17179334824749, 0.000481915535810451)),
    ((49.0, 8.4), (49.01, 8.43, 0.0), (2194.7142045830174, 1112.531980216403)),
    ((49.0, 8.4), (49.01, 8.43, 120.0), (2194.755417708654, 1112.5529323102014)),
    ((49.0, 8.4), (48.99, 8.38, 0.0), (-1463.728789481523, -1111.903600805159)),
    ((-33.86, 151.2), (-33.85, 151.21, 0.0), (925.4685467112115, 1109.1526932667962)),
    ((-33.86, 151.2), (-33.9, 151.1, 35.5), (-9249.336997692453, -4441.330440445371)),
    ((0.0, 0.0), (0.02, -0.03, 0.0), (-3339.584369106764, 2211.4854724233633)),
]


@pytest.mark.parametrize(("origin", "point", "want"), LANELET2_PROJECTED)
def test_projection_matches_lanelet2(
    origin: tuple[float, float],
    point: tuple[float, float, float],
    want: tuple[float, float],
) -> None:
    lat, lon, height = point
    got = project_latlon(np.array([lat]), np.array([lon]), origin, np.array([height]))
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-8)


def test_projection_is_ellipsoidal() -> None:
    """0.001 deg of latitude at 49 deg is 111.21 m (the meridian's radius of curvature there),
    not the 111.32 m of a sphere of the equatorial radius."""
    xy = project_latlon(np.array([49.001]), np.array([8.4]), (49.0, 8.4))
    e2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)
    meridian_m = EARTH_RADIUS_M * (1 - e2) / (1 - e2 * math.sin(math.radians(49.0005)) ** 2) ** 1.5
    assert xy[0, 1] == pytest.approx(meridian_m * math.radians(0.001), abs=1e-6)
    assert xy[0, 1] < EARTH_RADIUS_M * math.radians(0.001) - 0.1


def test_node_heights_come_from_ele_tags(tmp_path: Path) -> None:
    """A node's ``ele`` tag is its height above the ellipsoid: 120 m up moves a node 73 m
    east of the origin 1.4 mm further east, as in Lanelet2."""
    from tests.ingest.maps.test_lanelet2_rules import _osm

    text = _osm().replace(
        '<node id="2" lat="49.0" lon="8.401"/>',
        '<node id="2" lat="49.0" lon="8.401"><tag k="ele" v="120"/></node>',
    )
    path = tmp_path / "h.osm"
    path.write_text(text)
    end = read_lanelet2(path).lane("100").right_boundary_m[-1]
    at_120 = project_latlon(np.array([49.0]), np.array([8.401]), (49.0, 8.4), np.array([120.0]))
    at_0 = project_latlon(np.array([49.0]), np.array([8.401]), (49.0, 8.4))
    np.testing.assert_allclose(end, at_120[0], rtol=0, atol=1e-9)
    assert at_120[0, 0] - at_0[0, 0] == pytest.approx(73.17 * 120 / 6.39e6, rel=0.01)
    path.write_text(text.replace('v="120"', 'v="high"'))
    with pytest.raises(DataError, match="node 2: field ele"):
        read_lanelet2(path)


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
