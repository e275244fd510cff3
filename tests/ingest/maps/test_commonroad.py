"""CommonRoad XML (2018b and 2020a) against the counts in SOURCES.md section 5.

SOURCES.md lists 83 lanelets for USA_Peach-4_8 and 13 for USA_US101-3_3: those counts include
the planning problem's goal ``<lanelet ref=...>`` elements (4 and 1); the files define 79 and 12.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import read_commonroad

pytestmark = pytest.mark.data

CASES = [
    ("USA_US101-4_1_T-1.xml", "2020a", 0.1, 12, 22),
    ("USA_Peach-4_8_T-1.xml", "2020a", 0.1, 79, 9),
    ("FRA_Anglet-1_1_T-1.xml", "2020a", 0.1, 20, 8),
    ("ARG_Carcarana-4_5_T-1.xml", "2020a", 0.1, 368, 8),
    ("format_2018b/USA_US101-3_3_T-1.xml", "2018b", 0.1, 12, 12),
    ("format_2018b/USA_Lanker-1_1_T-1.xml", "2018b", 0.1, 91, 24),
    ("format_2018b/DEU_A9-3_1_T-1.xml", "2018b", 0.2, 32, 9),
]


@pytest.mark.parametrize(("name", "version", "dt", "n_lanelets", "n_obstacles"), CASES)
def test_counts(
    shared_data: Path, name: str, version: str, dt: float, n_lanelets: int, n_obstacles: int
) -> None:
    sc = read_commonroad(shared_data / "commonroad" / name)
    assert sc.version == version and sc.dt_s == dt
    assert len(sc.road_map) == n_lanelets
    assert sc.n_dynamic_obstacles == n_obstacles and len(sc.agents) == n_obstacles
    lane = sc.road_map.nearest_lane(sc.ego_initial[:2], yaw_rad=sc.ego_initial[2])
    assert lane in sc.road_map


def test_us101_connectivity_and_replay(shared_data: Path) -> None:
    sc = read_commonroad(shared_data / "commonroad" / "USA_US101-4_1_T-1.xml")
    m = sc.road_map
    assert sum(len(lane.successors) for lane in m.lanes) == 6
    lane = m.lane("42")  # <successor ref="40"/>, <adjacentLeft ref="2"/>, <adjacentRight ref="6"/>
    assert lane.successors == ("40",) and m.lane("40").predecessors == ("42",)
    assert lane.left_neighbor == "2" and lane.right_neighbor == "6"
    route = m.route("2", "40")  # one lane change and one successor step, in either order
    assert route[0] == "2" and route[-1] == "40" and route[1] in ("4", "42")
    agent = next(a for a in sc.agents if a.agent_id == "cr373")
    assert agent.size_m[:2] == (4.7244, 2.1031)
    track = agent.replay
    assert track is not None
    np.testing.assert_allclose(
        [track.time_s[0], track.x_m[0], track.y_m[0], track.speed_mps[0]],
        [0.0, 20.8465, -38.8751, 16.322],
    )
    np.testing.assert_allclose([track.time_s[1], track.x_m[1]], [0.1, 22.0989])
    assert sc.ego_initial == pytest.approx((0.0, 0.0, -0.76501, 5.331))


def test_speed_limits_from_signs_and_tags(shared_data: Path) -> None:
    peach = read_commonroad(shared_data / "commonroad" / "USA_Peach-4_8_T-1.xml")
    assert {round(lane.speed_limit_mps, 4) for lane in peach.road_map.lanes} >= {15.6464}
    a9 = read_commonroad(shared_data / "commonroad" / "format_2018b" / "DEU_A9-3_1_T-1.xml")
    assert {lane.speed_limit_mps for lane in a9.road_map.lanes} == {27.78}


def test_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<osm></osm>")
    with pytest.raises(DataError, match="expected <commonRoad>"):
        read_commonroad(bad)
    bad.write_text(
        '<commonRoad><lanelet id="1"><leftBound><point><x>0</x><y>0</y></point></leftBound></lanelet></commonRoad>'
    )
    with pytest.raises(DataError, match="lanelet 1: field leftBound"):
        read_commonroad(bad)
