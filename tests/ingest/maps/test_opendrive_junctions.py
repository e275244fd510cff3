"""OpenDRIVE junctions on the lanes: a connecting road's lanes (``road@junction``) lie in its
junction (:attr:`Lane.junction_id`); a lane whose drive ends at a ``type="direct"`` junction
passes it (:attr:`Lane.exit_junction_id`); a ``road@junction`` naming no junction of the file
is refused. Hand-written files and esmini's maps (SOURCES.md section 7), checked against the
roads' ``junction`` attributes read straight from the XML."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.opendrive import read_opendrive
from tests.ingest.maps.test_opendrive import _lane, _read, _road, _write


def _line(x: float, length: float) -> str:
    return f'<geometry s="0" x="{x}" y="0" hdg="0" length="{length}"><line/></geometry>'


def test_a_connecting_roads_lanes_lie_in_its_junction(tmp_path: Path) -> None:
    """Road 1 -> junction 9's connecting road 5 (two-way, with a sidewalk) -> road 6."""
    incoming = _road(
        "1",
        right=_lane(-1),
        left=_lane(1),
        link='<successor elementType="junction" elementId="9"/>',
    )
    connecting = _road(
        "5",
        length=20.0,
        geometry=_line(100, 20),
        right=_lane(-1) + _lane(-2, 2.0, lane_type="sidewalk"),
        left=_lane(1),
        link='<predecessor elementType="road" elementId="1" contactPoint="end"/>'
        '<successor elementType="road" elementId="6" contactPoint="start"/>',
    ).replace('junction="-1"', 'junction="9"')
    outgoing = _road(
        "6",
        length=50.0,
        geometry=_line(120, 50),
        right=_lane(-1),
        left=_lane(1),
        link='<predecessor elementType="junction" elementId="9"/>',
    )
    junction = (
        '<junction id="9"><connection id="0" incomingRoad="1" connectingRoad="5" '
        'contactPoint="start"><laneLink from="-1" to="-1"/><laneLink from="1" to="1"/>'
        '</connection><connection id="1" incomingRoad="6" connectingRoad="5" '
        'contactPoint="end"><laneLink from="-1" to="-1"/><laneLink from="1" to="1"/>'
        "</connection></junction>"
    )
    m = _read(tmp_path, incoming, connecting, outgoing, junctions=junction)
    marked = {lane.lane_id: lane.junction_id for lane in m.lanes}
    assert marked == {
        "1_0_-1": None,
        "1_0_1": None,
        "5_0_-1": "9",
        "5_0_-2": "9",  # the sidewalk too: it lies in the junction
        "5_0_1": "9",
        "6_0_-1": None,
        "6_0_1": None,
    }
    assert all(lane.exit_junction_id is None for lane in m.lanes)  # no direct junction
    assert m.route("1_0_-1", "6_0_-1", cost="junctions") == ["1_0_-1", "5_0_-1", "6_0_-1"]


#: Road 1 (100 m east: lanes -1, -2 east, 1 west) meets direct junction 8 at its end: lane -1
#: goes on into road 2 (100 m east, lanes -1 and 1), lane -2 into the exit ramp road 3 (50 m,
#: lane -1); road 2's lane 1 comes back west into road 1's lane 1.
DIRECT = (
    _road(
        "1",
        right=_lane(-1) + _lane(-2),
        left=_lane(1),
        link='<successor elementType="junction" elementId="8"/>',
    ),
    _road(
        "2",
        geometry=_line(100, 100),
        right=_lane(-1),
        left=_lane(1),
        link='<predecessor elementType="junction" elementId="8"/>',
    ),
    _road(
        "3",
        length=50.0,
        geometry='<geometry s="0" x="100" y="-7" hdg="-0.3" length="50"><line/></geometry>',
        right=_lane(-1),
        link='<predecessor elementType="junction" elementId="8"/>',
    ),
)
DIRECT_JUNCTION = (
    '<junction id="8" type="direct">'
    '<connection id="0" incomingRoad="1" linkedRoad="2" contactPoint="start">'
    '<laneLink from="-1" to="-1"/><laneLink from="1" to="1"/></connection>'
    '<connection id="1" incomingRoad="1" linkedRoad="3" contactPoint="start">'
    '<laneLink from="-2" to="-1"/></connection></junction>'
)


def test_a_lane_that_ends_at_a_direct_junction_passes_it(tmp_path: Path) -> None:
    m = _read(tmp_path, *DIRECT, junctions=DIRECT_JUNCTION)
    exits = {lane.lane_id: lane.exit_junction_id for lane in m.lanes}
    assert exits == {
        "1_0_-1": "8",
        "1_0_-2": "8",
        "1_0_1": None,  # it ends at road 1's start, at no junction
        "2_0_-1": None,
        "2_0_1": "8",  # driven west: it ends at road 2's start, at the junction
        "3_0_-1": None,
    }
    assert m.lane("1_0_-2").successors == ("3_0_-1",)
    assert m.lane("2_0_1").successors == ("1_0_1",)
    assert all(lane.junction_id is None for lane in m.lanes)  # no lane lies in it


def test_a_direct_junction_in_a_lane_section_of_its_own_road_end(tmp_path: Path) -> None:
    """Road 1 in two lane sections: only the last one's lanes end at the junction."""
    two_sections = DIRECT[0].replace(
        "</laneSection></lanes>",
        '</laneSection><laneSection s="50"><left>'
        + _lane(1, extra='<link><successor id="1"/></link>')
        + '</left><center><lane id="0" type="none"/></center><right>'
        + _lane(-1, extra='<link><predecessor id="-1"/></link>')
        + _lane(-2, extra='<link><predecessor id="-2"/></link>')
        + "</right></laneSection></lanes>",
    )
    m = _read(tmp_path, two_sections, *DIRECT[1:], junctions=DIRECT_JUNCTION)
    assert m.lane("1_0_-1").exit_junction_id is None
    assert m.lane("1_1_-1").exit_junction_id == "8"
    assert m.lane("1_0_1").exit_junction_id is None
    assert m.lane("1_1_1").exit_junction_id is None
    # one junction passed on the way from the first section into road 2
    route = m.route("1_0_-1", "2_0_-1", cost="junctions")
    assert route == ["1_0_-1", "1_1_-1", "2_0_-1"]


@pytest.mark.parametrize(
    ("junction", "reason"),
    [("7", "no junction '7' in the file"), (" ", "empty: a junction id, or -1 for none")],
)
def test_a_road_in_a_junction_the_file_lacks_is_refused(
    tmp_path: Path, junction: str, reason: str
) -> None:
    road = _road("5", right=_lane(-1)).replace('junction="-1"', f'junction="{junction}"')
    path = _write(tmp_path, _road("1", right=_lane(-1)), road)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), "road 5", "road@junction")
    assert reason in str(err)


# --- the esmini files (SOURCES.md section 7) ---------------------------------------------------

ESMINI = (
    "fabriksgatan.xodr",
    "multi_intersections.xodr",
    "soderleden.xodr",
    "straight_500m.xodr",
)


@pytest.mark.data
@pytest.mark.parametrize("name", ESMINI)
def test_esmini_lanes_lie_in_their_roads_junction(shared_data: Path, name: str) -> None:
    path = shared_data / "opendrive_esmini" / name
    m = read_opendrive(path)
    junction_of = {
        road.get("id"): road.get("junction") for road in ET.parse(path).getroot().iter("road")
    }
    for lane in m.lanes:
        in_file = junction_of[lane.lane_id.rsplit("_", 2)[0]]
        assert lane.junction_id == (None if in_file == "-1" else in_file), lane.lane_id


@pytest.mark.data
def test_multi_intersections_junction_lanes(shared_data: Path) -> None:
    m = read_opendrive(shared_data / "opendrive_esmini" / "multi_intersections.xodr")
    counts = {
        junction: sum(1 for lane in m.lanes if lane.junction_id == junction)
        for junction in sorted({lane.junction_id for lane in m.lanes} - {None})
    }
    # 59 of the 145 lanes: the connecting roads of junctions 146 .. 154
    assert counts == {"146": 16, "148": 9, "150": 16, "152": 9, "154": 9}
    assert all(lane.exit_junction_id is None for lane in m.lanes)  # no direct junction


@pytest.mark.data
def test_soderleden_on_ramp_is_a_direct_junction(shared_data: Path) -> None:
    """Junction 8 (direct): the on-ramp road 5 and road 2 merge into road 0 at its start."""
    m = read_opendrive(shared_data / "opendrive_esmini" / "soderleden.xodr")
    exits = {lane.lane_id: lane.exit_junction_id for lane in m.lanes if lane.exit_junction_id}
    # driving lanes 2_1_-1, 2_1_-2 and 5_0_-1 into road 0; sidewalks 5_0_-3 and 0_0_2
    assert exits == dict.fromkeys(["0_0_2", "2_1_-1", "2_1_-2", "5_0_-1", "5_0_-3"], "8")
    assert all(lane.junction_id is None for lane in m.lanes)
    route = m.route("5_0_-1", "0_1_-1", cost="junctions")
    passed = sum(1 for a, _ in itertools.pairwise(route) if m.lane(a).exit_junction_id)
    assert route[:2] == ["5_0_-1", "0_0_-3"] and passed == 1


# --- junction attributes and direct junctions the reader refuses (F1 fuzz) ---------------------


@pytest.mark.parametrize(
    ("junction_type", "reason"),
    [
        ("direct", "junction '8' is a direct junction, which has no roads of its own"),
        ("default", "the road lies in junction '8' and links to it as its successor"),
    ],
)
def test_a_road_that_cannot_lie_in_its_junction_is_refused(
    tmp_path: Path, junction_type: str, reason: str
) -> None:
    """Road 1, an incoming road of junction 8 (its successor), claims to lie in it: its lanes
    would count the junction twice on a junction route (in it, and passing it)."""
    incoming = DIRECT[0].replace('junction="-1"', 'junction="8"')
    junction = DIRECT_JUNCTION.replace('type="direct"', f'type="{junction_type}"')
    path = _write(tmp_path, incoming, *DIRECT[1:], junctions=junction)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), "road 1", "road@junction")
    assert reason in str(err)


@pytest.mark.parametrize(
    ("roads", "junction", "record", "reason"),
    [
        (  # road 2 links to the junction at its start, not its end
            DIRECT,
            DIRECT_JUNCTION.replace(
                'linkedRoad="2" contactPoint="start"', 'linkedRoad="2" contactPoint="end"'
            ),
            "junction 8 connection 0",
            "linked road 2 does not link to direct junction 8 at its end (its successor)",
        ),
        (  # road 3 does not link to the junction at all
            (
                *DIRECT[:2],
                DIRECT[2].replace('<predecessor elementType="junction" elementId="8"/>', ""),
            ),
            DIRECT_JUNCTION,
            "junction 8 connection 1",
            "linked road 3 does not link to direct junction 8 at its start (its predecessor)",
        ),
    ],
)
def test_a_direct_junctions_linked_road_must_link_to_it(
    tmp_path: Path, roads: tuple[str, ...], junction: str, record: str, reason: str
) -> None:
    """Before, the lanes were joined at the wrong road end (no route from road 1 into road
    2, road 2's eastbound lane ``exit_junction_id`` 8 at its far end) or across roads that
    do not meet."""
    path = _write(tmp_path, *roads, junctions=junction)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), record, "connection@contactPoint")
    assert reason in str(err)


def test_an_unknown_junction_type_is_refused(tmp_path: Path) -> None:
    """``Direct`` (not ``direct``) was read as a default junction: no lane passed it."""
    junction = DIRECT_JUNCTION.replace('type="direct"', 'type="Direct"')
    path = _write(tmp_path, *DIRECT, junctions=junction)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), "junction 8", "junction@type")
    assert "unknown junction type 'Direct'" in str(err)


# --- which connection attribute names the road beyond: connectingRoad / linkedRoad -------------


def test_a_direct_junction_connection_that_gives_connecting_road_reads_it_as_linked_road(
    tmp_path: Path,
) -> None:
    """The standard gives a direct junction's road beyond as ``linkedRoad`` only; a file that
    names it ``connectingRoad`` (libOpenDRIVE reads that attribute in every junction) is read
    alike, and both attributes naming one road too: the same lanes as DIRECT_JUNCTION."""
    expected = _read(tmp_path, *DIRECT, junctions=DIRECT_JUNCTION)
    for junction in (
        DIRECT_JUNCTION.replace("linkedRoad=", "connectingRoad="),
        DIRECT_JUNCTION.replace('linkedRoad="2"', 'linkedRoad="2" connectingRoad="2"'),
    ):
        m = _read(tmp_path, *DIRECT, junctions=junction)
        got = {lane.lane_id: (lane.successors, lane.exit_junction_id) for lane in m.lanes}
        assert got == {
            lane.lane_id: (lane.successors, lane.exit_junction_id) for lane in expected.lanes
        }
    assert expected.lane("1_0_-1").successors == ("2_0_-1",)


def test_a_connecting_road_given_to_a_direct_junction_is_worded_as_its_linked_road(
    tmp_path: Path,
) -> None:
    """Before, the error called road 2 a "linked road" at ``contactPoint`` without saying
    that the file named it ``connectingRoad``."""
    junction = DIRECT_JUNCTION.replace(
        'linkedRoad="2" contactPoint="start"', 'connectingRoad="2" contactPoint="end"'
    )
    path = _write(tmp_path, *DIRECT, junctions=junction)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.record, err.field) == ("junction 8 connection 0", "connection@contactPoint")
    assert "linked road 2 (given as connectingRoad) does not link to direct junction 8" in str(err)


@pytest.mark.parametrize(
    ("junction_type", "attrs", "field", "reason"),
    [
        (
            "direct",
            'linkedRoad="2" connectingRoad="3"',
            "connection@linkedRoad",
            "connectingRoad '3' and linkedRoad '2' name different roads; a direct junction's "
            "connection names its road with linkedRoad alone",
        ),
        (
            "default",
            'linkedRoad="2" connectingRoad="3"',
            "connection@connectingRoad",
            "connectingRoad '3' and linkedRoad '2' name different roads; a default junction's "
            "connection names its road with connectingRoad alone",
        ),
        (
            "default",
            'linkedRoad="2"',
            "connection@linkedRoad",
            "linkedRoad '2' in default junction 8: linkedRoad is for type=\"direct\" junctions",
        ),
        ("direct", "", "connection@linkedRoad", "missing"),
        ("default", "", "connection@connectingRoad", "missing"),
    ],
)
def test_a_connection_whose_road_beyond_is_unclear_is_refused(
    tmp_path: Path, junction_type: str, attrs: str, field: str, reason: str
) -> None:
    """Before, a default junction's ``linkedRoad`` was read as its connecting road (esmini and
    libOpenDRIVE read no such attribute there: the lanes go nowhere), and with both given
    ``connectingRoad`` won silently, called the linked road in a direct junction."""
    junction = DIRECT_JUNCTION.replace('type="direct"', f'type="{junction_type}"').replace(
        'linkedRoad="2"', attrs
    )
    path = _write(tmp_path, *DIRECT, junctions=junction)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    err = info.value
    assert (err.path, err.record, err.field) == (str(path), "junction 8 connection 0", field)
    assert reason in str(err)
