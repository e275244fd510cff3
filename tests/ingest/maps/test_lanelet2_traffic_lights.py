"""Lanelet2 traffic-light regulatory elements -> ``RoadMap.traffic_lights``: the element's id,
stops where its ``ref_line`` crosses each referencing lanelet's lanes (only the direction of a
two-way lanelet that drives towards it), the lane's end without a ``ref_line``, no cycle, the
light way's first node as position; DataErrors naming the relation and field; the Karlsruhe
mapping example's six lights."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import (
    EARTH_RADIUS_M,
    REVERSE_SUFFIX,
    project_latlon,
    read_lanelet2,
)
from drivestack.structures.road_map import RoadMap

ORIGIN = (49.0, 8.4)

#: node id -> (x, y) metres east / north of ORIGIN. Lanelet 100 (one-way) runs east along
#: y = 0 from x = 0 to 40 between ways 10 (y = -1.75) and 11 (y = 1.75); lanelet 200 (two-way)
#: runs east along y = 3.5 between ways 11 and 12 (y = 5.25); both 40 m long.
NODES = {
    "1": (0.0, -1.75),
    "2": (40.0, -1.75),
    "3": (0.0, 1.75),
    "4": (40.0, 1.75),
    "5": (0.0, 5.25),
    "6": (40.0, 5.25),
    "9": (32.0, -3.0),  # the light way 21: 9 -> 10
    "10": (32.0, -2.5),
}


def _node(nid: str, x: float, y: float) -> str:
    """A node at ``(x, y)`` m east / north of ``ORIGIN``: the reader's projection inverted by
    fixed-point steps on a sphere's scales (each step shrinks the error ~300-fold)."""
    lat, lon = ORIGIN
    for _ in range(5):
        got = project_latlon(np.array([lat]), np.array([lon]), ORIGIN)[0]
        lat += math.degrees((y - got[1]) / EARTH_RADIUS_M)
        lon += math.degrees((x - got[0]) / (EARTH_RADIUS_M * math.cos(math.radians(ORIGIN[0]))))
    return f'<node id="{nid}" lat="{lat!r}" lon="{lon!r}"/>'


def _way(wid: str, nodes: list[str], tags: str = "") -> str:
    return f'<way id="{wid}">' + "".join(f'<nd ref="{n}"/>' for n in nodes) + f"{tags}</way>"


def _osm(
    stop_x: float | None = 30.0,
    refers: str = "21",
    ref_line: str = "20",
    references: tuple[str, ...] = ("100", "200"),
    extra_nodes: str = "",
) -> str:
    """The two lanelets and traffic light 300 (stop line way 20 across both at ``stop_x``,
    none when ``None``), referenced by the lanelets in ``references``."""
    nodes = dict(NODES)
    if stop_x is not None:
        nodes |= {"7": (stop_x, -1.75), "8": (stop_x, 5.25)}
    ways = (
        _way("10", ["1", "2"], '<tag k="type" v="curbstone"/>')
        + _way("11", ["3", "4"], '<tag k="type" v="line_thin"/><tag k="subtype" v="solid"/>')
        + _way("12", ["5", "6"], '<tag k="type" v="curbstone"/>')
        + _way("21", ["9", "10"], '<tag k="type" v="traffic_light"/>')
        + (_way("20", ["7", "8"], '<tag k="type" v="stop_line"/>') if stop_x is not None else "")
    )

    def lanelet(rid: str, left: str, right: str, tags: str) -> str:
        light = (
            '<member type="relation" role="regulatory_element" ref="300"/>'
            if rid in references
            else ""
        )
        return (
            f'<relation id="{rid}"><member type="way" role="left" ref="{left}"/>'
            f'<member type="way" role="right" ref="{right}"/>{light}'
            f'<tag k="type" v="lanelet"/><tag k="subtype" v="road"/>{tags}</relation>'
        )

    line = f'<member type="way" role="ref_line" ref="{ref_line}"/>' if stop_x is not None else ""
    light = (
        f'<relation id="300"><member type="way" role="refers" ref="{refers}"/>{line}'
        '<tag k="type" v="regulatory_element"/><tag k="subtype" v="traffic_light"/></relation>'
    )
    return (
        "<osm>"
        + "".join(_node(n, *xy) for n, xy in nodes.items())
        + extra_nodes
        + ways
        + lanelet("100", "11", "10", '<tag k="one_way" v="yes"/>')
        + lanelet("200", "12", "11", '<tag k="one_way" v="no"/>')
        + light
        + "</osm>"
    )


def _read(tmp_path: Path, text: str) -> RoadMap:
    path = tmp_path / "lights.osm"
    path.write_text(text)
    return read_lanelet2(path, origin_deg=ORIGIN)


def _stops(m: RoadMap) -> dict[str, float]:
    return {s.lane_id: s.station_m for s in m.traffic_light("300").stops}


def test_the_scene(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm())
    assert sorted(lane.lane_id for lane in m.lanes) == ["100", "200", "200" + REVERSE_SUFFIX]
    for lane_id in ("100", "200"):
        np.testing.assert_allclose(m.lane(lane_id).centerline_m[[0, -1], 0], [0.0, 40.0], atol=1e-6)
    np.testing.assert_allclose(
        m.lane("200-reverse").centerline_m[[0, -1], 0], [40.0, 0.0], atol=1e-6
    )


def test_stop_line_ahead_of_the_own_direction(tmp_path: Path) -> None:
    # x = 30: 30 m along 100 and 200 (past their halves), 10 m along 200-reverse (behind it)
    m = _read(tmp_path, _osm(stop_x=30.0))
    light = m.traffic_light("300")
    assert [light.light_id, light.cycle, light.state_at(4.0)] == ["300", None, "unknown"]
    assert _stops(m) == {"100": pytest.approx(30.0), "200": pytest.approx(30.0)}
    assert light.position_m == pytest.approx((32.0, -3.0), abs=1e-6)  # way 21's first node
    assert m.light_stops("200-reverse") == []


def test_stop_line_ahead_of_the_reverse_direction(tmp_path: Path) -> None:
    # x = 10: the one-way lanelet 100 is stopped wherever its line lies (10 m); of the two-way
    # lanelet only 200-reverse drives towards it (40 - 10 = 30 m along it)
    assert _stops(_read(tmp_path, _osm(stop_x=10.0))) == {
        "100": pytest.approx(10.0),
        "200-reverse": pytest.approx(30.0),
    }


def test_stop_line_halfway_stops_both_directions(tmp_path: Path) -> None:
    assert _stops(_read(tmp_path, _osm(stop_x=20.0))) == {
        "100": pytest.approx(20.0),
        "200": pytest.approx(20.0),
        "200-reverse": pytest.approx(20.0),
    }


def test_without_a_ref_line_the_lanelets_own_direction_stops_at_its_end(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(stop_x=None))
    stops = _stops(m)
    assert stops == {"100": m.lane("100").length_m, "200": m.lane("200").length_m}
    assert stops["100"] == pytest.approx(40.0)


def test_unreferenced_light_is_listed_without_stops(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(references=()))
    assert [light.light_id for light in m.traffic_lights] == ["300"]
    assert m.traffic_light("300").stops == ()


def test_light_references_leave_the_lanes_alone(tmp_path: Path) -> None:
    with_light = _read(tmp_path, _osm())
    without = _read(tmp_path, _osm(references=()))
    for a, b in zip(with_light.lanes, without.lanes, strict=True):
        assert a.lane_id == b.lane_id and a.successors == b.successors
        np.testing.assert_array_equal(a.centerline_m, b.centerline_m)


def _message(tmp_path: Path, text: str) -> str:
    path = tmp_path / "lights.osm"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_lanelet2(path, origin_deg=ORIGIN)
    assert str(info.value).startswith(str(path))  # names the file
    return str(info.value)


def test_bad_references_name_the_relation_and_role(tmp_path: Path) -> None:
    assert "relation 300: field ref_line: unknown way 99" in _message(tmp_path, _osm(ref_line="99"))
    assert "relation 300: field refers: unknown way 98" in _message(tmp_path, _osm(refers="98"))
    bad_node = _osm().replace('<nd ref="8"/>', '<nd ref="77"/>')
    assert "way 20: field nd: unknown node 77" in _message(tmp_path, bad_node)


def test_stop_line_off_a_referencing_lanelet(tmp_path: Path) -> None:
    # x = 45: 5 m past the end of 100 (more than the 0.5 m of map rounding allowed)
    message = _message(tmp_path, _osm(stop_x=45.0))
    assert (
        "relation 300: field ref_line: the stop line lies off lanelet 100: station 45.00 m on "
        "lane '100', 40.00 m long"
    ) in message


# --- real data: Karlsruhe mapping example -----------------------------------------------

#: traffic-light element -> the lanelets that reference it (read off the file)
KARLSRUHE_STOPS = {
    "45218": {"45134", "45136"},
    "45222": {"44972"},
    "45224": {"44968", "44970"},
    "45226": {"45014", "45016"},
    "45232": {"45070"},
    "45234": {"45082", "45088"},
}


@pytest.mark.data
def test_mapping_example_lights(shared_data: Path) -> None:
    path = shared_data / "lanelet2" / "mapping_example.osm"
    m = read_lanelet2(path)
    assert [light.light_id for light in m.traffic_lights] == sorted(KARLSRUHE_STOPS)
    root = ET.parse(path).getroot()
    nodes = {n.get("id"): n for n in root.iter("node")}
    first = next(root.iter("node"))
    origin = (float(first.get("lat", "")), float(first.get("lon", "")))
    for light in m.traffic_lights:
        assert light.cycle is None and light.state_at(0.0) == "unknown"
        # none of these lanelets is two-way: one stop per referencing lanelet, each where the
        # stop line crosses the lanelet's end (the map draws lanelets up to the stop line)
        assert {s.lane_id for s in light.stops} == KARLSRUHE_STOPS[light.light_id]
        for stop in light.stops:
            assert stop.station_m == pytest.approx(m.lane(stop.lane_id).length_m, abs=0.05)
        # the position is the first node of the first light way the element refers to
        rel = next(r for r in root.iter("relation") if r.get("id") == light.light_id)
        way_id = next(mb.get("ref") for mb in rel.findall("member") if mb.get("role") == "refers")
        way = next(w for w in root.iter("way") if w.get("id") == way_id)
        node = nodes[way.findall("nd")[0].get("ref")]
        want = project_latlon(
            np.array([float(node.get("lat", ""))]), np.array([float(node.get("lon", ""))]), origin
        )[0]
        assert light.position_m == pytest.approx(tuple(want))
        for stop in light.stops:  # a light stands at its stop lines, not across town
            end = m.lane(stop.lane_id).centerline_m[-1]
            assert np.linalg.norm(end - np.asarray(light.position_m)) < 30.0
