"""OpenDRIVE reader: hand-built roads, the esmini files of SOURCES.md section 7, and a cross-check
of lane borders and links against opendrive2lanelet's conversion of the same files
(``tools/opendrive_reference.py`` wrote the reference)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely

from drivestack.core.errors import DataError
from drivestack.ingest.maps import parse_opendrive, read_opendrive
from drivestack.structures.road_map import RoadMap

REFERENCE = Path(__file__).parent / "data" / "opendrive2lanelet_reference.json"


def _lane(lane_id: int, width: float = 3.5, extra: str = "", lane_type: str = "driving") -> str:
    return (
        f'<lane id="{lane_id}" type="{lane_type}">'
        f'<width sOffset="0" a="{width}" b="0" c="0" d="0"/>{extra}</lane>'
    )


def _road(
    road_id: str = "1",
    length: float = 100.0,
    geometry: str = '<geometry s="0" x="0" y="0" hdg="0" length="100"><line/></geometry>',
    left: str = "",
    right: str = "",
    link: str = "",
    attrs: str = "",
    extra: str = "",
) -> str:
    return (
        f'<road id="{road_id}" length="{length}" junction="-1" {attrs}>'
        f"<link>{link}</link>{extra}<planView>{geometry}</planView>"
        f'<lanes><laneSection s="0"><left>{left}</left><center><lane id="0" type="none"/>'
        f"</center><right>{right}</right></laneSection></lanes></road>"
    )


def _write(tmp_path: Path, *roads: str, junctions: str = "") -> Path:
    path = tmp_path / "map.xodr"
    path.write_text(
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        + "".join(roads)
        + junctions
        + "</OpenDRIVE>"
    )
    return path


def _read(tmp_path: Path, *roads: str, junctions: str = "") -> RoadMap:
    return read_opendrive(_write(tmp_path, *roads, junctions=junctions))


def test_two_way_road_lanes_run_their_own_ways(tmp_path: Path) -> None:
    m = _read(tmp_path, _road(left=_lane(1, 3.0), right=_lane(-1, 3.5) + _lane(-2, 3.0)))
    assert sorted(lane.lane_id for lane in m.lanes) == ["1_0_-1", "1_0_-2", "1_0_1"]
    right = m.lane("1_0_-1")  # along the reference line (+x), centre 1.75 m right of it
    np.testing.assert_allclose(right.centerline_m[[0, -1]], [[0.0, -1.75], [100.0, -1.75]])
    np.testing.assert_allclose(right.left_boundary_m[0], [0.0, 0.0])
    np.testing.assert_allclose(right.right_boundary_m[0], [0.0, -3.5])
    left = m.lane("1_0_1")  # against it (-x), centre 1.5 m left of it
    np.testing.assert_allclose(left.centerline_m[[0, -1]], [[100.0, 1.5], [0.0, 1.5]])
    np.testing.assert_allclose(left.left_boundary_m[0], [100.0, 0.0])  # its left is the centre
    assert left.length_m == pytest.approx(100.0)
    assert max(np.diff(right.centerline_m[:, 0])) <= 1.0 + 1e-9  # step_m


def test_left_hand_traffic_drives_the_left_lanes_forward(tmp_path: Path) -> None:
    m = _read(tmp_path, _road(attrs='rule="LHT"', left=_lane(1), right=_lane(-1)))
    np.testing.assert_allclose(m.lane("1_0_1").centerline_m[0], [0.0, 1.75])
    np.testing.assert_allclose(m.lane("1_0_-1").centerline_m[0], [100.0, -1.75])


def test_lane_offset_and_varying_width(tmp_path: Path) -> None:
    offset = '<laneOffset s="0" a="1.0" b="0" c="0" d="0"/>'
    road = _road(right=_lane(-1, 2.0).replace('b="0"', 'b="0.02"', 1)).replace(
        "<lanes>", "<lanes>" + offset
    )
    lane = read_opendrive(_write(tmp_path, road)).lane("1_0_-1")
    # inner border at t = 1; width 2 m growing 2 cm per metre: 4 m at the end
    np.testing.assert_allclose(lane.left_boundary_m[[0, -1]], [[0.0, 1.0], [100.0, 1.0]])
    np.testing.assert_allclose(lane.right_boundary_m[[0, -1]], [[0.0, -1.0], [100.0, -3.0]])


def test_only_vehicle_sidewalk_and_bicycle_lanes_are_kept(tmp_path: Path) -> None:
    right = (
        _lane(-1)
        + _lane(-2, 0.5, lane_type="shoulder")
        + _lane(-3, 1.5, lane_type="biking")
        + _lane(-4, 2.0, lane_type="sidewalk")
        + _lane(-5, 0.0, lane_type="driving")  # zero width everywhere
    )
    m = _read(tmp_path, _road(right=right))
    assert {lane.lane_id: lane.lane_type for lane in m.lanes} == {
        "1_0_-1": "driving",
        "1_0_-3": "bicycle_lane",
        "1_0_-4": "sidewalk",
    }
    # the shoulder still places the lanes beyond it: the bike lane starts 4 m right
    np.testing.assert_allclose(m.lane("1_0_-3").left_boundary_m[0], [0.0, -4.0])
    assert m.drivable_area.area == pytest.approx(350.0)


@pytest.mark.parametrize(
    "mark, left_of_outer, right_of_inner",
    [
        ('<roadMark sOffset="0" type="broken"/>', "1_0_-1", "1_0_-2"),
        ('<roadMark sOffset="0" type="solid"/>', None, None),
        ('<roadMark sOffset="0" type="solid" laneChange="increase"/>', "1_0_-1", None),
        ('<roadMark sOffset="0" type="broken" laneChange="decrease"/>', None, "1_0_-2"),
        ('<roadMark sOffset="0" type="broken" laneChange="none"/>', None, None),
        ("", "1_0_-1", "1_0_-2"),  # no road mark: the standard's default, both ways
    ],
)
def test_lane_changes_follow_the_mark_between_the_lanes(
    tmp_path: Path, mark: str, left_of_outer: str | None, right_of_inner: str | None
) -> None:
    # the border between lanes -1 and -2 is lane -1's outer border, so lane -1 carries the mark
    m = _read(tmp_path, _road(right=_lane(-1, extra=mark) + _lane(-2), left=_lane(1)))
    outer, inner = m.lane("1_0_-2"), m.lane("1_0_-1")
    assert outer.left_neighbor == left_of_outer  # -2 -> -1: towards the higher id
    assert inner.right_neighbor == right_of_inner
    assert inner.left_neighbor is None  # never across the centre lane into oncoming traffic
    assert outer.right_neighbor is None


def test_speed_limits_lane_then_road_type_then_default(tmp_path: Path) -> None:
    road_type = '<type s="0" type="town"><speed max="50" unit="km/h"/></type>'
    lane_speed = '<speed sOffset="0" max="20" unit="mph"/><speed sOffset="50" max="25" unit="mph"/>'
    m = _read(tmp_path, _road(extra=road_type, right=_lane(-1, extra=lane_speed), left=_lane(1)))
    assert m.lane("1_0_-1").speed_limit_mps == pytest.approx(20 * 0.44704)  # lowest of the lane's
    assert m.lane("1_0_1").speed_limit_mps == pytest.approx(50 / 3.6)
    plain = read_opendrive(_write(tmp_path, _road(right=_lane(-1))), default_speed_limit_mps=9.0)
    assert plain.lane("1_0_-1").speed_limit_mps == 9.0


def _two_section_road() -> str:
    sections = (
        '<laneSection s="0"><center><lane id="0" type="none"/></center><right>'
        + _lane(-1, extra='<link><successor id="-1"/></link>')
        + _lane(-2, extra='<link><successor id="-1"/></link>')  # merges into -1
        + '</right><left><lane id="1" type="driving"><link><successor id="1"/></link>'
        '<width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane></left></laneSection>'
        '<laneSection s="60"><center><lane id="0" type="none"/></center><right>'
        + _lane(-1, extra='<link><predecessor id="-1"/></link>')
        + '</right><left><lane id="1" type="driving"><link><predecessor id="1"/></link>'
        '<width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane></left></laneSection>'
    )
    return (
        '<road id="7" length="100" junction="-1"><planView>'
        '<geometry s="0" x="0" y="0" hdg="0" length="100"><line/></geometry></planView>'
        f"<lanes>{sections}</lanes></road>"
    )


def test_links_between_lane_sections_follow_the_driving_direction(tmp_path: Path) -> None:
    m = _read(tmp_path, _two_section_road())
    assert m.lane("7_0_-1").successors == ("7_1_-1",)
    assert m.lane("7_0_-2").successors == ("7_1_-1",)
    assert m.lane("7_1_-1").predecessors == ("7_0_-1", "7_0_-2")
    # lane 1 drives against the reference line: section 1 comes first
    assert m.lane("7_1_1").successors == ("7_0_1",)
    assert m.lane("7_0_1").predecessors == ("7_1_1",)
    assert m.lane("7_0_1").successors == ()
    assert m.lane("7_0_1").length_m == pytest.approx(60.0)


def test_road_links_join_at_the_contact_point(tmp_path: Path) -> None:
    # road 2 runs back towards road 1's end: joined end to end
    first = _road(
        "1",
        right=_lane(-1, extra='<link><successor id="1"/></link>'),
        link='<successor elementType="road" elementId="2" contactPoint="end"/>',
    )
    second = _road(
        "2",
        geometry='<geometry s="0" x="200" y="0" hdg="3.14159265358979" length="100"><line/></geometry>',
        left=_lane(1, extra='<link><successor id="-1"/></link>'),
        link='<successor elementType="road" elementId="1" contactPoint="end"/>',
    )
    m = _read(tmp_path, first, second)
    assert m.lane("1_0_-1").successors == ("2_0_1",)
    assert m.lane("2_0_1").predecessors == ("1_0_-1",)
    np.testing.assert_allclose(
        m.lane("2_0_1").centerline_m[0], m.lane("1_0_-1").centerline_m[-1], atol=1e-9
    )


def test_junction_connections_link_incoming_to_connecting_roads(tmp_path: Path) -> None:
    incoming = _road("1", right=_lane(-1), link='<successor elementType="junction" elementId="9"/>')
    connecting = _road(
        "5",
        length=20.0,
        geometry='<geometry s="0" x="100" y="0" hdg="0" length="20"><line/></geometry>',
        right=_lane(-1),
        link='<predecessor elementType="road" elementId="1" contactPoint="end"/>',
    ).replace('junction="-1"', 'junction="9"')
    junction = (
        '<junction id="9"><connection id="0" incomingRoad="1" connectingRoad="5" '
        'contactPoint="start"><laneLink from="-1" to="-1"/></connection></junction>'
    )
    m = _read(tmp_path, incoming, connecting, junctions=junction)
    assert m.lane("1_0_-1").successors == ("5_0_-1",)
    assert m.route("1_0_-1", "5_0_-1") == ["1_0_-1", "5_0_-1"]


@pytest.mark.parametrize(
    "text, record, field, reason",
    [
        ("<OpenDRIVE><road", None, None, "not well-formed XML"),
        ("<osm/>", None, None, "expected <OpenDRIVE>"),
        ("<OpenDRIVE/>", None, None, "no <road> elements"),
        (_road(geometry=""), "road 1", "planView", "no planView geometry"),
        (
            _road(geometry='<geometry s="0" x="0" y="0" hdg="0" length="9"><arc/></geometry>'),
            "road 1 planView geometry 0",
            "arc@curvature",
            "missing",
        ),
        (
            _road(geometry='<geometry s="0" x="0" y="0" hdg="0" length="9"><bend/></geometry>'),
            "road 1 planView geometry 0",
            "geometry",
            "no line, arc",
        ),
        (
            _road(geometry='<geometry s="0" x="nan" y="0" hdg="0" length="9"><line/></geometry>'),
            "road 1 planView geometry 0",
            "geometry@x",
            "not a finite number",
        ),
        (
            _road(geometry='<geometry s="0" x="0" y="0" hdg="0" length="0"><line/></geometry>'),
            "road 1 planView geometry 0",
            "geometry@length",
            "must be positive",
        ),
        (
            _road(
                right='<lane id="-1" type="driving"><border sOffset="0" a="3" b="0" c="0" d="0"/></lane>'
            ),
            "road 1 lane section 0 lane -1",
            "width",
            "<border> records are not read",
        ),
        (
            _road(
                right=_lane(-1, extra='<link><successor id="-1"/></link>'),
                link='<successor elementType="road" elementId="4" contactPoint="start"/>',
            ),
            "road 1",
            "link/successor@elementId",
            "no road '4'",
        ),
        (
            _road(
                right=_lane(-1, extra='<link><predecessor id="-3"/></link>'),
                link='<predecessor elementType="road" elementId="1" contactPoint="end"/>',
            ),
            "road 1 lane section 0 lane -1",
            "link/predecessor@id",
            "has no lane -3",
        ),
        (
            _road(right=_lane(-1), link='<successor elementType="road" elementId="1"/>'),
            "road 1",
            "link/successor@contactPoint",
            "contactPoint must be start or end",
        ),
        (
            _road(right=_lane(-1, extra='<speed sOffset="0" max="30" unit="knots"/>')),
            "road 1 lane section 0 lane -1",
            "speed@unit",
            "unknown speed unit",
        ),
        (
            _road(right=_lane(2)),
            "road 1 lane section 0",
            "right/lane@id",
            "on the wrong side",
        ),
        (
            _road(right=_lane(-1) + _lane(-3)),
            "road 1 lane section 0",
            "right/lane@id",
            "expected -1 outwards without gaps",
        ),
        (
            _road(right=_lane(-1)).replace(
                '<laneSection s="0">', '<laneSection s="0" singleSide="true">'
            ),
            "road 1 lane section 0",
            "laneSection@singleSide",
            "singleSide lane sections are not read",
        ),
        (
            _road(right=_lane(-1)).replace('<laneSection s="0">', '<laneSection s="120">'),
            "road 1 lane section 0",
            "laneSection@s",
            "off the road (length 100.0 m)",
        ),
        (
            _road(right=_lane(-1, 2.0).replace('b="0"', 'b="-0.05"', 1)),
            "road 1 lane section 0 lane -1",
            "width",
            "negative width -3.000 m at s 100.00 m",
        ),
        (
            _road(right=_lane(-1), link='<successor elementType="junction" elementId="7"/>'),
            "road 1",
            "link/successor@elementId",
            "no junction '7' in the file",
        ),
        (
            _road(
                right=_lane(-1),
                link='<predecessor elementType="road" elementId="9" contactPoint="end"/>',
            ),
            "road 1",
            "link/predecessor@elementId",
            "no road '9' in the file",
        ),
        (
            _road(right=_lane(-1))
            + '<junction id="3"><connection id="0" incomingRoad="1" connectingRoad="1" '
            'contactPoint="start"><laneLink from="-1" to="-1"/></connection></junction>',
            "junction 3 connection 0",
            "connection@incomingRoad",
            "does not link to junction 3",
        ),
    ],
)
def test_malformed_input_names_file_record_and_field(
    tmp_path: Path, text: str, record: str | None, field: str | None, reason: str
) -> None:
    path = tmp_path / "bad.xodr"
    path.write_text(
        text
        if text.startswith("<O") or text.startswith("<osm")
        else f"<OpenDRIVE>{text}</OpenDRIVE>"
    )
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert err.path == str(path)
    assert (err.record, err.field) == (record, field)
    assert reason in str(err)


def test_missing_file_and_bad_step(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_opendrive(tmp_path / "none.xodr")
    with pytest.raises(ValueError, match="step_m"):
        read_opendrive(_write(tmp_path, _road(right=_lane(-1))), step_m=0.0)


# --- the esmini files (SOURCES.md section 7) ---------------------------------------------------

ESMINI_LANES = {  # file -> (lanes read, of them vehicle lanes)
    "crest-curve.xodr": (2, 2),
    "curve_r100.xodr": (2, 2),
    "e6mini.xodr": (6, 6),
    "fabriksgatan.xodr": (32, 20),
    "multi_intersections.xodr": (145, 86),
    "soderleden.xodr": (22, 11),
    "straight_500m.xodr": (2, 2),
}


@pytest.fixture(scope="module")
def esmini(shared_data: Path) -> dict[str, RoadMap]:
    folder = shared_data / "opendrive_esmini"
    return {name: read_opendrive(folder / name, step_m=0.5) for name in ESMINI_LANES}


def _start_edge(lane_m: RoadMap, lane_id: str) -> shapely.LineString:
    lane = lane_m.lane(lane_id)
    return shapely.LineString([lane.left_boundary_m[0], lane.right_boundary_m[0]])


@pytest.mark.data
def test_esmini_files_read_whole_and_linked_end_to_start(esmini: dict[str, RoadMap]) -> None:
    for name, (n_lanes, n_vehicle) in ESMINI_LANES.items():
        m = esmini[name]
        assert (len(m), sum(lane.drivable for lane in m.lanes)) == (n_lanes, n_vehicle), name
        for lane in m.lanes:
            for succ in lane.successors:
                assert lane.lane_id in m.lane(succ).predecessors
                # a lane ends on its successor's start edge (a merging lane at its border)
                end = shapely.Point(lane.centerline_m[-1])
                assert _start_edge(m, succ).distance(end) < 0.01, (name, lane.lane_id, succ)


@pytest.mark.data
def test_straight_and_r100_curve(esmini: dict[str, RoadMap]) -> None:
    for lane in esmini["straight_500m.xodr"].lanes:
        assert lane.length_m == pytest.approx(500.0)
        width = np.linalg.norm(lane.left_boundary_m - lane.right_boundary_m, axis=1)
        np.testing.assert_allclose(width, 3.07)
    # curve_r100: 500 m straight east, a left quarter arc of radius 100 about (500, 100), north
    lane = esmini["curve_r100.xodr"].lane("0_0_-1")
    half_width = 0.5 * float(np.linalg.norm(lane.left_boundary_m[0] - lane.right_boundary_m[0]))
    on_arc = (lane.centerline_m[:, 0] > 500.0) & (lane.centerline_m[:, 1] < 100.0)
    radius = np.hypot(*(lane.centerline_m[on_arc] - [500.0, 100.0]).T)
    np.testing.assert_allclose(radius, 100.0 + half_width, atol=0.01)
    assert lane.length_m == pytest.approx(
        500.0 + (100.0 + half_width) * math.pi / 2 + 100.0, abs=0.05
    )


@pytest.mark.data
def test_soderleden_merge_and_lane_changes(esmini: dict[str, RoadMap]) -> None:
    m = esmini["soderleden.xodr"]
    assert m.lane("0_0_-3").successors == ("0_1_-2",)  # the third lane tapers into the second
    assert m.lane("0_0_-3").left_neighbor == "0_0_-2"  # broken line, laneChange="both"
    assert m.lane("0_0_-1").right_neighbor == "0_0_-2"
    # e6mini marks its broken lines laneChange="none": no lane changes at all
    assert all(
        lane.left_neighbor is None and lane.right_neighbor is None
        for lane in esmini["e6mini.xodr"].lanes
    )


@pytest.mark.data
def test_fabriksgatan_routes_through_its_junction(esmini: dict[str, RoadMap]) -> None:
    m = esmini["fabriksgatan.xodr"]
    assert m.lane("0_0_1").successors == ("10_0_-1", "8_0_-1", "9_0_-1")  # left, ahead, right
    assert len(m.reachable_lanes("0_0_1")) == 7  # through the junction to the three exits
    assert all(not m.lane(s).drivable for s in m.lane("0_0_3").successors)  # sidewalks stay apart


@pytest.mark.data
def test_lanes_match_opendrive2lanelet(esmini: dict[str, RoadMap]) -> None:
    reference = json.loads(REFERENCE.read_text())
    assert len(reference) == 6  # soderleden.xodr: opendrive2lanelet reads no direct junction
    compared = 0
    for name, lanes in reference.items():
        m = esmini[name]
        assert {i for i in lanes} == {lane.lane_id for lane in m.lanes}, name
        for lane_id, ref in lanes.items():
            lane = m.lane(lane_id)
            ours = [
                shapely.LineString(lane.left_boundary_m),
                shapely.LineString(lane.right_boundary_m),
            ]
            theirs = [shapely.points(ref["inner"]), shapely.points(ref["outer"])]
            off = min(
                max(
                    float(np.max(shapely.distance(ours[i], theirs[0]))),
                    float(np.max(shapely.distance(ours[1 - i], theirs[1]))),
                )
                for i in (0, 1)
            )
            assert off < 0.01, (name, lane_id, off)
            if lane.drivable:
                assert sorted(lane.successors) == [s for s in ref["successors"] if s in m], lane_id
                assert sorted(lane.predecessors) == [p for p in ref["predecessors"] if p in m]
            compared += 1
    assert compared == 189


def test_lane_positions_are_placed_in_the_lane_driving_direction(tmp_path: Path) -> None:
    network = parse_opendrive(_write(tmp_path, _road(left=_lane(1), right=_lane(-1))))
    road_map = network.road_map()
    ahead = network.locate(road_map, "1", -1, 30.0, 0.5)  # along the reference line
    assert (ahead.lane_id, ahead.station_m, ahead.offset_m) == ("1_0_-1", pytest.approx(30.0), 0.5)
    back = network.locate(road_map, "1", 1, 30.0, 0.5)  # against it: 70 m in, 0.5 m right
    assert (back.lane_id, back.station_m, back.offset_m) == ("1_0_1", pytest.approx(70.0), -0.5)
    with pytest.raises(DataError, match="off the road"):
        network.locate(road_map, "1", -1, 130.0)
    with pytest.raises(DataError, match="is not a lane of the map"):
        network.locate(road_map, "1", -2, 30.0)


@pytest.mark.parametrize("x", ["1_0", "\uff11\uff10", "\u0661\u0660", "0x10"])
def test_python_only_number_in_an_attribute_is_not_a_number(tmp_path: Path, x: str) -> None:
    """xs:double has no ``1_0`` or non-ASCII digits: was read as x = 10 m."""
    geometry = f'<geometry s="0" x="{x}" y="0" hdg="0" length="100"><line/></geometry>'
    with pytest.raises(DataError, match=f"not a number: {x!r}") as info:
        _read(tmp_path, _road(geometry=geometry, right=_lane(-1)))
    assert info.value.path == str(tmp_path / "map.xodr")
    assert info.value.field == "geometry@x" and info.value.record is not None
    geometry = geometry.replace(f'x="{x}"', 'x=" 10 "')  # XML whitespace around it is fine
    assert _read(tmp_path, _road(geometry=geometry, right=_lane(-1)))


@pytest.mark.parametrize("lane_id", ["-\uff11", "-\u0661", "-1_0"])
def test_python_only_lane_id_is_not_an_integer(tmp_path: Path, lane_id: str) -> None:
    right = _lane(-1).replace('id="-1"', f'id="{lane_id}"')  # was read as lane -1 / -10
    with pytest.raises(DataError, match="not an integer lane id") as info:
        _read(tmp_path, _road(right=right))
    assert info.value.path == str(tmp_path / "map.xodr") and info.value.field == "lane@id"


_LINE_THEN_ARC_R5 = (  # 10 m east, then 5 m of a left arc of radius 5 m (1 rad)
    '<geometry s="0" x="0" y="0" hdg="0" length="10"><line/></geometry>'
    '<geometry s="10" x="10" y="0" hdg="0" length="5"><arc curvature="0.2"/></geometry>'
)


def test_a_curve_too_tight_for_its_lanes_names_the_lane_and_the_arc(tmp_path: Path) -> None:
    """A lane whose border lies past the centre of its road's curve folds over itself: an
    error naming the road, lane section, lane and the plan-view record (it was a traceback
    from the lane's own cusp check, naming neither the file nor the road)."""
    left = _lane(1, width=3.0) + _lane(2, width=3.0)  # lane 2's outer border at 6 m > 5 m
    with pytest.raises(DataError) as info:
        _read(tmp_path, _road(length=15, geometry=_LINE_THEN_ARC_R5, left=left, right=_lane(-1)))
    err = info.value
    assert (err.path, err.record, err.field) == (
        str(tmp_path / "map.xodr"),
        "road 1 lane section 0 lane 2",
        "width",
    )
    assert "border runs backwards at s 10.00 m" in str(err)
    assert "(planView geometry 1, an arc;" in str(err)
    # the same road with lanes that fit inside the radius reads
    fits = _read(tmp_path, _road(length=15, geometry=_LINE_THEN_ARC_R5, left=_lane(1, 3.0)))
    assert len(fits.lanes) == 1


def test_a_jump_between_plan_view_records_is_an_error(tmp_path: Path) -> None:
    jump = _LINE_THEN_ARC_R5.replace('x="10" y="0"', 'x="10" y="0.2"')
    with pytest.raises(DataError) as info:
        _read(tmp_path, _road(length=15, geometry=jump, right=_lane(-1)))
    assert (info.value.record, info.value.field) == ("road 1 planView geometry 1", "geometry@x/y")
    assert "starts at x, y (10, 0.2), 0.2 m from where geometry 0 ends (10, 0)" in str(info.value)


def test_a_lane_built_from_a_folded_file_names_the_file_and_element(tmp_path: Path) -> None:
    """A lane's own checks (a fold of its centreline) come out as a DataError naming the map
    file and the element the lane was built from."""
    from drivestack.ingest.maps._geometry import lane_checks

    with pytest.raises(DataError) as info, lane_checks("m.xodr", "road 4 lane section 0 lane -1"):
        raise ValueError("Lane '4_0_-1'.centerline_m turns back on itself")
    assert str(info.value) == (
        "m.xodr: road 4 lane section 0 lane -1: Lane '4_0_-1'.centerline_m turns back on itself"
    )
