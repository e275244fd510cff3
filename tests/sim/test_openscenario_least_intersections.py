"""OpenSCENARIO ``routeStrategy="leastIntersections"``: the route through the fewest OpenDRIVE
junctions (lanes of connecting roads, ``road@junction``, as the reader marks them), ties by
length, on small maps written by the test (built and driven), and on esmini's
``multi_intersections.xodr``;
``random`` is refused saying why."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from drivestack.ingest.maps.opendrive import parse_opendrive
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.openscenario import read_openscenario
from drivestack.sim.scenario import load_scenarios
from tests.sim.test_openscenario_routes import (
    _ROAD_1_TO_4,
    DETOUR_XODR,
    _assign,
    _lane_pos,
    _line,
    _refused,
    _road,
    _write,
    _xosc,
)


def _link(kind: str, rid: int, contact: str) -> str:
    return f'<{kind} elementType="road" elementId="{rid}" contactPoint="{contact}"/>'


#: DETOUR_XODR's road 1 (100 m) splits at junction 100 into connecting roads 2 (straight on)
#: and 3 (a 40 m detour to road 4), but road 2 is 10 m and leads on to road 6 (5 m), which
#: enters junction 200 over its connecting road 7 (5 m) to road 4 (80 m east from x = 120 m):
#: the short way 1-2-6-7-4 is 120 m to road 4 through two junctions, the detour 1-3-4 140 m
#: through one.
TWO_JUNCTIONS_XODR = (
    '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
    + _road(1, 0, 0, 0, 100, '<successor elementType="junction" elementId="100"/>')
    + _road(2, 100, 0, 0, 10, _link("predecessor", 1, "end") + _link("successor", 6, "start"))
    + _road(
        3,
        100,
        0,
        0,
        40,
        _ROAD_1_TO_4,
        plan=_line(0, 100, 0, math.pi / 2, 10)
        + _line(10, 100, 10, 0, 20)
        + _line(30, 120, 10, -math.pi / 2, 10),
    )
    + _road(
        6,
        110,
        0,
        0,
        5,
        _link("predecessor", 2, "end") + '<successor elementType="junction" elementId="200"/>',
    )
    + _road(
        7, 115, 0, 0, 5, _link("predecessor", 6, "end") + _link("successor", 4, "start")
    ).replace('junction="-1"', 'junction="200"')
    + _road(4, 120, 0, 0, 80, '<predecessor elementType="junction" elementId="100"/>')
    + '<junction id="100" name="split">'
    '<connection id="0" incomingRoad="1" connectingRoad="2" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection>'
    '<connection id="1" incomingRoad="1" connectingRoad="3" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection></junction>'
    '<junction id="200" name="join">'
    '<connection id="0" incomingRoad="6" connectingRoad="7" contactPoint="start">'
    '<laneLink from="-1" to="-1"/></connection></junction></OpenDRIVE>'
)
SHORT = ["1_0_-1", "2_0_-1", "6_0_-1", "7_0_-1", "4_0_-1"]
DETOUR = ["1_0_-1", "3_0_-1", "4_0_-1"]


def test_the_connecting_roads_lanes_are_the_junctions(tmp_path: Path) -> None:
    path = tmp_path / "road.xodr"
    path.write_text(TWO_JUNCTIONS_XODR)
    road_map = parse_opendrive(path).road_map()
    marked = {lane.lane_id: lane.junction_id for lane in road_map.lanes if lane.junction_id}
    assert marked == {"2_0_-1": "100", "3_0_-1": "100", "7_0_-1": "200"}


@pytest.mark.parametrize(
    ("strategy", "lanes"), [("shortest", SHORT), ("leastIntersections", DETOUR)]
)
def test_least_intersections_takes_the_longer_way_through_fewer_junctions(
    tmp_path: Path, strategy: str, lanes: list[str]
) -> None:
    route = _assign(_lane_pos(4, -1, 40), strategy=strategy)
    path = _write(tmp_path, _xosc(route), TWO_JUNCTIONS_XODR)
    assert read_openscenario(path)["route"] == {"lanes": lanes}


def test_equal_junction_counts_take_the_shorter_way(tmp_path: Path) -> None:
    # DETOUR_XODR: road 2 (20 m) and road 3 (40 m) both connect road 1 to road 4 in junction 100
    route = _assign(_lane_pos(4, -1, 40), strategy="leastIntersections")
    path = _write(tmp_path, _xosc(route), DETOUR_XODR)
    assert read_openscenario(path)["route"] == {"lanes": ["1_0_-1", "2_0_-1", "4_0_-1"]}


def test_a_least_intersections_scenario_builds_and_drives_its_route(tmp_path: Path) -> None:
    route = _assign(_lane_pos(4, -1, 40), strategy="leastIntersections")
    (cfg,) = load_scenarios(_write(tmp_path, _xosc(route), TWO_JUNCTIONS_XODR))
    built = build_scenario(cfg)
    assert built.route_lanes == DETOUR
    result = run_scenario(built, "idm", max_steps=60)
    # the ego starts at s = 10 m on road 1 and drives east along it
    xy = result.history.ego_boxes[:, :2]
    assert xy[-1, 0] > xy[0, 0] + 5.0
    assert built.road_map.lane("1_0_-1").project(xy[-1:])[1][0] == pytest.approx(0.0, abs=0.5)


def test_random_is_refused_saying_why(tmp_path: Path) -> None:
    error = _refused(tmp_path, _xosc(_assign(_lane_pos(5, -1, 40), strategy="random")))
    assert error.field == "Init/Ego/RoutingAction/AssignRouteAction/Route/Waypoint[0]@routeStrategy"
    assert "'random' is not read" in str(error)
    assert "same way every run" in str(error)
    assert "leastIntersections" in str(error)


@pytest.mark.data
def test_on_esminis_multi_intersections_map(shared_data: Path) -> None:
    """``multi_intersections.xodr`` (5 junctions): from road 217 to road 261 the shortest
    route enters 5 junctions; one 18.9 m longer enters 4."""
    network = parse_opendrive(shared_data / "opendrive_esmini" / "multi_intersections.xodr")
    marked = network.road_map()  # the reader marks the connecting roads' lanes
    assert {lane.junction_id for lane in marked.lanes} == {None, "146", "148", "150", "152", "154"}

    def junctions(route: list[str]) -> int:
        ids = [marked.lane(i).junction_id for i in route]
        return sum(1 for a, b in itertools.pairwise(ids) if b is not None and b != a)

    def length_m(route: list[str]) -> float:
        return sum(marked.lane(a).length_m for a in route[:-1])  # successor steps only here

    shortest = marked.route("217_0_1", "261_0_-1")
    least = marked.route("217_0_1", "261_0_-1", cost="junctions")
    marked.route_centerline(least)  # drivable
    assert (junctions(shortest), junctions(least)) == (5, 4)
    assert length_m(least) - length_m(shortest) == pytest.approx(18.88, abs=0.01)
    # fewest junctions, and never longer than the shortest route with as few
    for start, goal in [("266_0_-1", "209_0_-1"), ("217_0_1", "235_0_1"), ("267_0_-1", "196_0_1")]:
        a, b = marked.route(start, goal), marked.route(start, goal, cost="junctions")
        assert junctions(b) < junctions(a)
        assert length_m(b) > length_m(a)
