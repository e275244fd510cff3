"""Lanelet2 traffic rules and malformed input: speed-limit units, two-way lanelets, lane
changes only across bounds whose markings allow them, vehicles kept off crosswalks, and
DataErrors naming the file, node / relation and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import REVERSE_SUFFIX, parse_speed_limit_mps, read_lanelet2
from drivestack.structures.road_map import RoadMap

LAT = {"s": 49.0, "m": 49.00003, "n": 49.00006}  # south / middle / north bound, ~3.3 m apart


def _osm(
    middle_tags: str = '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed"/>',
    a_tags: str = "",
    b_tags: str = "",
    node_attrs: str = 'lat="49.0" lon="8.4"',
) -> str:
    """Lanelets A (south) and B (north) running east, sharing the middle way 11."""
    nodes = [f'<node id="1" {node_attrs}/>', '<node id="2" lat="49.0" lon="8.401"/>']
    for i, row in enumerate(("m", "n")):
        nodes.append(f'<node id="{3 + 2 * i}" lat="{LAT[row]}" lon="8.4"/>')
        nodes.append(f'<node id="{4 + 2 * i}" lat="{LAT[row]}" lon="8.401"/>')
    ways = (
        '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="type" v="curbstone"/></way>'
        f'<way id="11"><nd ref="3"/><nd ref="4"/>{middle_tags}</way>'
        '<way id="12"><nd ref="5"/><nd ref="6"/><tag k="type" v="road_border"/></way>'
    )

    def lanelet(rid: str, left: str, right: str, tags: str) -> str:
        return (
            f'<relation id="{rid}"><member type="way" role="left" ref="{left}"/>'
            f'<member type="way" role="right" ref="{right}"/><tag k="type" v="lanelet"/>'
            f"{tags}</relation>"
        )

    return (
        "<osm>"
        + "".join(nodes)
        + ways
        + lanelet("100", "11", "10", a_tags)
        + lanelet("200", "12", "11", b_tags)
        + "</osm>"
    )


def _read(tmp_path: Path, text: str) -> RoadMap:
    path = tmp_path / "m.osm"
    path.write_text(text)
    return read_lanelet2(path)


def _message(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.osm"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        read_lanelet2(path)
    assert str(info.value).startswith(str(path))
    return str(info.value)


@pytest.mark.parametrize(
    ("value", "mps"),
    [
        ("50", 50 / 3.6),
        ("50 km/h", 50 / 3.6),
        ("50kmh", 50 / 3.6),
        ("50 mph", 50 * 0.44704),
        ("30mph", 30 * 0.44704),
        ("13.5 m/s", 13.5),
        ("13.5mps", 13.5),
    ],
)
def test_speed_limit_units(value: str, mps: float) -> None:
    assert parse_speed_limit_mps(value, "m.osm", "relation 1") == pytest.approx(mps)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("50 knots", "unknown unit 'knots'"),
        ("-10", "must be a positive speed"),
        ("fast", "not a speed"),
    ],
)
def test_bad_speed_limit_names_the_lanelet(tmp_path: Path, value: str, reason: str) -> None:
    text = _osm(a_tags=f'<tag k="speed_limit" v="{value}"/>')
    message = _message(tmp_path, text)
    assert "relation 100: field speed_limit" in message and reason in message


def test_speed_limit_with_a_unit_in_the_map(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(a_tags='<tag k="speed_limit" v="30 mph"/>'))
    assert m.lane("100").speed_limit_mps == pytest.approx(30 * 0.44704)


def _with_speed_limit_element(element_tags: str, sign_subtype: str = "de274-60") -> str:
    """``_osm`` with lanelet A referencing speed-limit element 900 (which refers to traffic
    sign way 20, of subtype ``sign_subtype``) and carrying a 30 mph ``speed_limit`` tag."""
    text = _osm(
        a_tags='<tag k="speed_limit" v="30 mph"/>'
        '<member type="relation" role="regulatory_element" ref="900"/>'
    )
    sign = (
        f'<way id="20"><nd ref="1"/><nd ref="3"/><tag k="type" v="traffic_sign"/>'
        f'<tag k="subtype" v="{sign_subtype}"/></way>'
    )
    element = (
        '<relation id="900"><member type="way" role="refers" ref="20"/>'
        '<tag k="type" v="regulatory_element"/><tag k="subtype" v="speed_limit"/>'
        f"{element_tags}</relation>"
    )
    return text.replace('<relation id="100">', sign + '<relation id="100">', 1).replace(
        "</osm>", element + "</osm>"
    )


@pytest.mark.parametrize(
    ("sign_subtype", "element_tags", "kmh"),
    [
        ("de274-60", "", 60.0),  # the German sign the element refers to
        ("de274", "", 30.0),
        ("de310", "", 50.0),  # town entrance
        ("de274_1", "", 30.0),  # 30 km/h zone (Lanelet2 1.2.3 reads it so)
        ("de274_1-20", "", 20.0),  # 20 km/h zone
        ("de310", '<tag k="sign_type" v="de274_1"/>', 30.0),
        ("70", "", 70.0),  # not a German sign: read as a speed, km/h by default
        ("de274-60", '<tag k="sign_type" v="80 km/h"/>', 80.0),  # sign_type wins
    ],
)
def test_a_regulatory_speed_limit_sets_the_lanelets_speed_before_its_tag(
    tmp_path: Path, sign_subtype: str, element_tags: str, kmh: float
) -> None:
    m = _read(tmp_path, _with_speed_limit_element(element_tags, sign_subtype))
    assert m.lane("100").speed_limit_mps == pytest.approx(kmh / 3.6)
    assert m.lane("200").speed_limit_mps == pytest.approx(13.89)  # no element, no tag


def test_an_unreadable_regulatory_speed_limit_names_the_element(tmp_path: Path) -> None:
    message = _message(tmp_path, _with_speed_limit_element("", sign_subtype="de274.1"))
    assert "relation 900: field refers" in message and "not a speed: 'de274.1'" in message
    no_sign = _with_speed_limit_element("").replace(
        '<member type="way" role="refers" ref="20"/>', ""
    )
    assert "relation 900: field refers" in _message(tmp_path, no_sign)


def test_an_unreferenced_speed_limit_element_is_not_read(tmp_path: Path) -> None:
    text = _with_speed_limit_element("", sign_subtype="de274_1").replace(
        '<member type="relation" role="regulatory_element" ref="900"/>', ""
    )
    assert _read(tmp_path, text).lane("100").speed_limit_mps == pytest.approx(30 * 0.44704)


@pytest.mark.parametrize(
    ("attrs", "field", "reason"),
    [
        ('lon="8.4"', "lat", "missing"),
        ('lat="abc" lon="8.4"', "lat", "not a number"),
        ('lat="49.0" lon="nan"', "lon", "not a finite number"),
        ('lat="95" lon="8.4"', "lat", "must be within [-90, 90] degrees, got 95"),
        ('lat="49.0" lon="400"', "lon", "must be within [-180, 180] degrees, got 400"),
    ],
)
def test_bad_node_names_node_and_field(tmp_path: Path, attrs: str, field: str, reason: str) -> None:
    message = _message(tmp_path, _osm(node_attrs=attrs))
    assert f"node 1: field {field}: {reason}" in message


def test_dashed_line_allows_lane_changes_both_ways(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm())
    assert m.lane("100").left_neighbor == "200" and m.lane("200").right_neighbor == "100"


@pytest.mark.parametrize(
    "tags",
    [
        '<tag k="type" v="line_thin"/><tag k="subtype" v="solid"/>',
        '<tag k="type" v="curbstone"/><tag k="subtype" v="high"/>',
        '<tag k="type" v="fence"/>',
        '<tag k="type" v="virtual"/>',
        '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed"/><tag k="lane_change" v="no"/>',
    ],
    ids=["solid", "high curb", "fence", "virtual", "lane_change=no"],
)
def test_no_lane_change_across_closed_bounds(tmp_path: Path, tags: str) -> None:
    m = _read(tmp_path, _osm(middle_tags=tags))
    assert m.lane("100").left_neighbor is None and m.lane("200").right_neighbor is None


def test_one_sided_marking(tmp_path: Path) -> None:
    # way 11 runs east like both lanes; solid_dashed: a change to the left of the way only
    m = _read(
        tmp_path,
        _osm(middle_tags='<tag k="type" v="line_thick"/><tag k="subtype" v="solid_dashed"/>'),
    )
    assert m.lane("100").left_neighbor == "200" and m.lane("200").right_neighbor is None


def test_participant_tags_override_the_subtype(tmp_path: Path) -> None:
    # Lanelet2: with any participant:* tag only the participants tagged yes may use a lanelet
    bikes = '<tag k="participant:bicycle" v="yes"/><tag k="one_way" v="no"/>'
    m = _read(tmp_path, _osm(b_tags=bikes))
    assert m.lane("200").lane_type == "bicycle_lane" and not m.lane("200").drivable
    assert "200" + REVERSE_SUFFIX not in m  # two-way for bicycles, not a car lane
    assert m.lane("100").left_neighbor is None
    cars = '<tag k="participant:vehicle:car" v="yes"/><tag k="participant:bicycle" v="yes"/>'
    assert _read(tmp_path, _osm(b_tags=cars)).lane("200").lane_type == "road"


def test_crosswalk_is_not_a_lane_change_target(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(b_tags='<tag k="subtype" v="crosswalk"/>'))
    assert m.lane("100").left_neighbor is None and m.lane("200").right_neighbor is None
    assert len(m.crosswalks) == 1


def test_two_way_lanelet_gets_a_reverse_lane(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(a_tags='<tag k="one_way" v="no"/>'))
    rev = m.lane("100" + REVERSE_SUFFIX)
    fwd = m.lane("100")
    assert len(m) == 3
    assert rev.centerline_m[0] == pytest.approx(fwd.centerline_m[-1])  # runs west
    assert m.nearest_lane(fwd.centerline_m[1], yaw_rad=3.14159) == rev.lane_id
    # the reverse lane is oncoming for lanelet 200: no lane change into it
    assert m.lane("200").right_neighbor == "100" and rev.left_neighbor is None


def test_opendrive_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    message = _message(tmp_path, '<OpenDRIVE><header revMajor="1"/></OpenDRIVE>')
    assert "OpenDRIVE" in message and "no nodes" not in message


@pytest.mark.data
def test_real_opendrive_file_is_refused(shared_data: Path) -> None:
    path = shared_data / "opendrive_esmini" / "straight_500m.xodr"
    with pytest.raises(DataError, match="OpenDRIVE file"):
        read_lanelet2(path)


@pytest.mark.data
def test_mapping_example_rules(shared_data: Path) -> None:
    m = read_lanelet2(shared_data / "lanelet2" / "mapping_example.osm")
    reverse = [lane for lane in m.lanes if lane.lane_id.endswith(REVERSE_SUFFIX)]
    assert len(reverse) == 60  # the vehicle road lanelets tagged one_way=no
    # 17 road lanelets tagged participant:bicycle / participant:pedestrian (and one_way=no)
    # are closed to vehicles, as Lanelet2 reads participant tags: shared paths, no reverse lane
    shared = [lane for lane in m.lanes if lane.lane_type == "bicycle_lane" and not lane.drivable]
    assert len(shared) >= 17
    for lane in m.lanes:
        for other in (*lane.successors, lane.left_neighbor, lane.right_neighbor):
            if other is not None:  # vehicles never route onto crosswalks or bicycle lanes
                assert m.lane(other).drivable == lane.drivable
    assert (
        sum(
            (lane.left_neighbor is not None) + (lane.right_neighbor is not None) for lane in m.lanes
        )
        == 113
    )


@pytest.mark.parametrize("value", ["\uff15\uff10", "\u0665\u0660 km/h", "\uff15\uff10mph"])
def test_speed_limit_of_non_ascii_digits_is_not_a_speed(tmp_path: Path, value: str) -> None:
    # fullwidth / Arabic-Indic "50" was read as 50 km/h (or mph)
    message = _message(tmp_path, _osm(a_tags=f'<tag k="speed_limit" v="{value}"/>'))
    assert "relation 100: field speed_limit: not a speed" in message


@pytest.mark.parametrize("lat", ["4_9.0", "\uff14\uff19.0", "\u0664\u0669"])
def test_python_only_node_coordinate_is_not_a_number(tmp_path: Path, lat: str) -> None:
    message = _message(tmp_path, _osm(node_attrs=f'lat="{lat}" lon="8.4"'))  # was 49.0
    assert f"node 1: field lat: not a number: {lat!r}" in message
