"""CommonRoad ``<intersection>`` and traffic-light ``<direction>``: the incomings' successors by
turn, ``Lane.junction_id`` on the lanelets inside an intersection, each light stop's governed
ways out (``LaneStop.next_lanes``) resolved from its direction, the notes where a direction
cannot be resolved, the reader's refusals naming file, record and field, and the real files
(their lights all say ``all``; their intersections are counted once by a junction route)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import LIGHT_DIRECTIONS, read_commonroad
from drivestack.structures.road_map import RoadMap
from tests.ingest.maps.test_av2_junctions import _entered
from tests.ingest.maps.turn_arrows import (
    LEFT,
    RIGHT,
    STRAIGHT,
    incoming,
    intersection_xml,
    write_intersection,
)

LEFT_OF_7 = '<isLeftOf ref="7"/>'
#: The ways out of lanelet 1 each direction governs, by hand (None: every way out).
GOVERNED = {
    "right": (RIGHT,),
    "straight": (STRAIGHT,),
    "left": (LEFT,),
    "leftStraight": (STRAIGHT, LEFT),
    "straightRight": (STRAIGHT, RIGHT),
    "leftRight": (LEFT, RIGHT),
    "all": None,
}


def _stop(road_map: RoadMap, light_id: str):
    (stop,) = road_map.traffic_light(light_id).stops
    return stop


def test_the_intersection_is_read_by_turn(tmp_path: Path) -> None:
    scenario = read_commonroad(write_intersection(tmp_path))
    (section,) = scenario.intersections
    assert section.intersection_id == "100" and section.crossings == ()
    (inc,) = section.incomings
    assert inc.incoming_id == "101" and inc.lanelets == ("1",)
    assert inc.successors == {"right": (RIGHT,), "straight": (STRAIGHT,), "left": (LEFT,)}
    assert inc.is_left_of is None
    junctions = {lane.lane_id: lane.junction_id for lane in scenario.road_map.lanes}
    assert junctions == {
        "1": None, "2": "intersection-100", "3": "intersection-100", "4": "intersection-100",
        "5": None, "6": None, "7": None,
    }  # fmt: skip
    assert scenario.light_notes == ()


@pytest.mark.parametrize("direction", list(LIGHT_DIRECTIONS))
def test_each_direction_governs_its_turns(tmp_path: Path, direction: str) -> None:
    scenario = read_commonroad(write_intersection(tmp_path, arrow=direction))
    stop = _stop(scenario.road_map, "10")
    assert (stop.lane_id, stop.station_m) == ("1", 60.0)
    # in the lanelet's successor order (2, 3, 4)
    assert stop.next_lanes == GOVERNED[direction]
    assert scenario.light_notes == ()


def test_a_light_without_direction_governs_all(tmp_path: Path) -> None:
    scenario = read_commonroad(write_intersection(tmp_path, arrow=None))
    assert _stop(scenario.road_map, "10").next_lanes is None
    assert scenario.light_notes == ()


def test_without_an_intersection_a_direction_governs_all_and_is_noted(tmp_path: Path) -> None:
    scenario = read_commonroad(write_intersection(tmp_path, intersection=""))
    assert scenario.intersections == ()
    assert all(lane.junction_id is None for lane in scenario.road_map.lanes)
    assert _stop(scenario.road_map, "10").next_lanes is None
    assert _stop(scenario.road_map, "11").next_lanes is None
    # by lanelet, then its references in file order (its own trafficLightRef before its
    # stop line's)
    assert scenario.light_notes == (
        "trafficLight 11 (direction straight) on lanelet 1: the lanelet is no incomingLanelet "
        "of an intersection; governs all",
        "trafficLight 10 (direction left) on lanelet 1: the lanelet is no incomingLanelet of "
        "an intersection; governs all",
    )


def test_a_turn_the_incoming_does_not_list_governs_all_and_is_noted(tmp_path: Path) -> None:
    section = f'<intersection id="100">{incoming(left=())}</intersection>'
    scenario = read_commonroad(write_intersection(tmp_path, intersection=section))
    assert _stop(scenario.road_map, "10").next_lanes is None  # left: none listed
    assert _stop(scenario.road_map, "11").next_lanes == (STRAIGHT,)
    assert scenario.light_notes == (
        "trafficLight 10 (direction left) on lanelet 1: incoming 101 lists no successorsLeft; "
        "governs all",
    )
    assert {lane.lane_id for lane in scenario.road_map.lanes if lane.junction_id} == {"2", "4"}


def test_a_lane_with_no_governed_way_out_gets_an_empty_tuple(tmp_path: Path) -> None:
    # a second incoming lanelet 8 beside 1 whose only way out is straight on (into 2); a left
    # arrow it references governs no way out of it
    lane8 = (
        '<lanelet id="8"><leftBound><point><x>0.0</x><y>-1.75</y></point><point><x>60.0</x>'
        "<y>-1.75</y></point></leftBound><rightBound><point><x>0.0</x><y>-5.25</y></point>"
        '<point><x>60.0</x><y>-5.25</y></point></rightBound><successor ref="2"/>'
        '<laneletType>urban</laneletType><trafficLightRef ref="10"/></lanelet>'
    )
    section = f'<intersection id="100">{incoming(lanelets=("1", "8"))}</intersection>'
    text = intersection_xml(intersection=section).replace(
        "<trafficLight ", lane8 + "<trafficLight ", 1
    )
    path = tmp_path / "two.xml"
    path.write_text(text)
    road_map = read_commonroad(path).road_map
    stops = {s.lane_id: s.next_lanes for s in road_map.traffic_light("10").stops}
    assert stops == {"1": (LEFT,), "8": ()}


def _assert_refused(
    tmp_path: Path, kwargs: dict[str, str], record: str, field: str, words: str
) -> None:
    """Reading the file ``write_intersection(**kwargs)`` writes is a ``DataError`` naming the
    file, ``record`` and ``field``, with ``words`` in its message."""
    path = write_intersection(tmp_path, **kwargs)
    with pytest.raises(DataError) as err:
        read_commonroad(path)
    assert err.value.path == str(path)
    assert err.value.record == record and err.value.field == field
    assert words in str(err.value)


@pytest.mark.parametrize(
    ("kwargs", "record", "field", "words"),
    [
        ({"arrow": "upLeft"}, "trafficLight 10", "direction", "unknown direction 'upLeft'"),
        ({"arrow": ""}, "trafficLight 10", "direction", "unknown direction ''"),
        (
            {"intersection": f'<intersection id="100">{incoming(lanelets=("42",))}</intersection>'},
            "intersection 100 incoming 101", "incomingLanelet", "unknown lanelet '42'",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming(left=("43",))}</intersection>'},
            "intersection 100 incoming 101", "successorsLeft", "unknown lanelet '43'",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming(straight=("5",))}</intersection>'},
            "intersection 100 incoming 101", "successorsStraight",
            "lanelet 5 is no successor of the incoming lanelets ['1']",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming(lanelets=())}</intersection>'},
            "intersection 100 incoming 101", "incomingLanelet", "no incomingLanelet",
        ),
        (
            {"intersection": '<intersection id="100"></intersection>'},
            "intersection 100", "incoming", "no incoming",
        ),
        (
            {"intersection": f'<intersection>{incoming()}</intersection>'},
            "intersection", "id", "missing",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming()}</intersection>'
             f'<intersection id="100">{incoming(incoming_id="102")}</intersection>'},
            "intersection 100", "id", "repeated id",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming()}</intersection>'
             f'<intersection id="200">{incoming(right=(), straight=())}</intersection>'},
            "intersection incoming 101", "id", "repeated id",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming()}</intersection><intersection '
             f'id="200">{incoming(incoming_id="201", right=(), straight=())}</intersection>'},
            "intersection 200 incoming 201", "successorsLeft", "lanelet 3 is inside intersection 100 too",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming(extra=LEFT_OF_7)}</intersection>'},
            "intersection 100 incoming 101", "isLeftOf", "unknown incoming '7'",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming()}<crossing>'
             '<crossingLanelet ref="44"/></crossing></intersection>'},
            "intersection 100", "crossing/crossingLanelet", "unknown lanelet '44'",
        ),
    ],
)  # fmt: skip
def test_refusals_name_file_record_and_field(
    tmp_path: Path, kwargs: dict[str, str], record: str, field: str, words: str
) -> None:
    _assert_refused(tmp_path, kwargs, record, field, words)


def test_is_left_of_and_crossings_are_read(tmp_path: Path) -> None:
    both = incoming(extra='<isLeftOf ref="102"/>') + incoming(
        lanelets=("5",), right=(), straight=(), left=(), incoming_id="102"
    )
    section = f'<intersection id="100">{both}<crossing><crossingLanelet ref="6"/></crossing></intersection>'
    (section_read,) = read_commonroad(
        write_intersection(tmp_path, intersection=section)
    ).intersections
    first, second = section_read.incomings
    assert first.is_left_of == "102" and second.is_left_of is None
    assert second.successors == {"right": (), "straight": (), "left": ()}
    assert section_read.crossings == ("6",)


def test_a_junction_route_counts_the_intersection_once(tmp_path: Path) -> None:
    road_map = read_commonroad(write_intersection(tmp_path)).road_map
    for goal, way in (("5", STRAIGHT), ("6", LEFT), ("7", RIGHT)):
        route = road_map.route("1", goal, cost="junctions")
        assert route == ["1", way, goal] == road_map.route("1", goal)
        assert _entered(road_map, route) == 1


@pytest.mark.data
def test_the_real_files_read_with_their_intersections(shared_data: Path) -> None:
    folder = shared_data / "commonroad"
    found = {}
    for path in sorted(folder.rglob("*.xml")):
        scenario = read_commonroad(path)
        stops = [s for light in scenario.road_map.traffic_lights for s in light.stops]
        inside = {lane.junction_id for lane in scenario.road_map.lanes if lane.junction_id}
        found[path.name] = (len(scenario.intersections), len(inside), len(stops))
        # every light of these files says "all" (or nothing): every stop governs every way
        assert all(s.next_lanes is None for s in stops) and scenario.light_notes == ()
    assert found == {
        "ARG_Carcarana-4_5_T-1.xml": (24, 24, 0),
        "FRA_Anglet-1_1_T-1.xml": (1, 1, 0),
        "USA_Peach-4_8_T-1.xml": (1, 1, 13),
        "USA_US101-4_1_T-1.xml": (0, 0, 0),
        "DEU_A9-3_1_T-1.xml": (0, 0, 0),
        "USA_Lanker-1_1_T-1.xml": (0, 0, 0),
        "USA_US101-3_3_T-1.xml": (0, 0, 0),
    }
    peach = read_commonroad(folder / "USA_Peach-4_8_T-1.xml")
    (section,) = peach.intersections
    north = next(inc for inc in section.incomings if inc.incoming_id == "43925")
    assert north.lanelets == ("43208", "43349", "43343") and north.is_left_of == "43926"
    assert north.successors == {
        "right": ("43640",),
        "straight": ("43592", "43594"),
        "left": ("43590",),
    }
    road_map = peach.road_map
    assert road_map.lane("43592").junction_id == "intersection-43922"
    # the scenario commonroad_usa_peach_red_light's route: through the intersection once
    route = road_map.route("43208", "43380", cost="junctions")
    assert (
        route == ["43208", "43592", "43630", "43830", "43380"] == road_map.route("43208", "43380")
    )
    assert _entered(road_map, route) == 1


def _two(second: str, iid: str = "200") -> str:
    """The file's intersection 100 and a second one (``iid``) holding ``second``."""
    return f'<intersection id="100">{incoming()}</intersection><intersection id="{iid}">{second}</intersection>'


@pytest.mark.parametrize(
    ("kwargs", "record", "field", "words"),
    [
        (  # 2 both straight on and left: the red left arrow 10 would stop straight-on traffic
            {"intersection": f'<intersection id="100">{incoming(left=(LEFT, STRAIGHT))}</intersection>'},
            "intersection 100 incoming 101", "successorsLeft",
            "lanelet 2 is listed as successorsStraight too",
        ),
        (  # lanelet 1 leads into intersection 200 too (no successors there)
            {"intersection": _two(incoming(incoming_id="201", right=(), straight=(), left=()))},
            "intersection 200 incoming 201", "incomingLanelet",
            "lanelet 1 is an incomingLanelet of intersection 100 incoming 101 too",
        ),
        (  # ... or into intersection 100 by a second incoming, whose left turn is 2
            {"intersection": '<intersection id="100">' + incoming()
             + incoming(incoming_id="102", right=(), straight=(), left=(STRAIGHT,))
             + "</intersection>"},
            "intersection 100 incoming 102", "incomingLanelet",
            "lanelet 1 is an incomingLanelet of intersection 100 incoming 101 too",
        ),
        (  # lanelet 2 is inside intersection 100 and an incoming lanelet of it
            {"intersection": '<intersection id="100">' + incoming()
             + incoming(incoming_id="102", lanelets=(STRAIGHT,), right=(), straight=("5",), left=())
             + "</intersection>"},
            "intersection 100 incoming 102", "incomingLanelet",
            "lanelet 2 is a successor of an incoming of this intersection (inside it)",
        ),
        (
            {"intersection": f'<intersection id="100">{incoming(extra=LEFT_OF_7.replace("7", "101"))}</intersection>'},
            "intersection 100 incoming 101", "isLeftOf", "refers to its own incoming",
        ),
        (  # the second direction was ignored
            {"arrow": "left</direction><direction>straight"},
            "trafficLight 10", "direction", "2 <direction> elements",
        ),
    ],
)  # fmt: skip
def test_ambiguous_intersections_are_refused(
    tmp_path: Path, kwargs: dict[str, str], record: str, field: str, words: str
) -> None:
    _assert_refused(tmp_path, kwargs, record, field, words)
