"""Map-reader rules pinned with hand-derived values: CommonRoad speed signs, drivable lanelet
types, road users, adjacency and stop / yield signs; Lanelet2 one-way, lane-change, speed-limit
and sign-rule choices; OpenDRIVE plan-view records (poly3, paramPoly3, record boundaries) and
junction connections. Each test builds a small file (or records) by hand; the expected values
follow from the rule as the module docstrings and the README state it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import CommonRoadScenario, read_commonroad
from drivestack.ingest.maps.lanelet2 import (
    REVERSE_SUFFIX,
)
from drivestack.ingest.maps.opendrive_geometry import PlanViewRecord, reference_line
from tests.ingest.maps.test_commonroad_stop_signs import _lanelet as _cr_lanelet
from tests.ingest.maps.test_lanelet2_traffic_lights import NODES as L2_LANELET_NODES
from tests.ingest.maps.test_lanelet2_traffic_lights import _node as _l2_node
from tests.ingest.maps.test_lanelet2_traffic_lights import _read as _l2_read
from tests.ingest.maps.test_lanelet2_traffic_lights import _way as _l2_way
from tests.ingest.maps.test_opendrive import _lane, _read, _road
from tests.ingest.maps.test_opendrive_junctions import DIRECT

# --------------------------------------------------------------------------------------------
# CommonRoad
# --------------------------------------------------------------------------------------------

CR_PROBLEM = (
    '<planningProblem id="99"><initialState>{time}<position><point><x>1.0</x><y>0.0</y>'
    "</point></position><orientation><exact>0.0</exact></orientation>"
    "<velocity><exact>5.0</exact></velocity></initialState>{goal}</planningProblem>"
)


def _cr_sign(sid: str, *elements: tuple[str, str | None]) -> str:
    """A traffic sign of ``(trafficSignID, additionalValue or None)`` elements."""
    body = "".join(
        f"<trafficSignElement><trafficSignID>{eid}</trafficSignID>"
        + ("" if value is None else f"<additionalValue>{value}</additionalValue>")
        + "</trafficSignElement>"
        for eid, value in elements
    )
    return f'<trafficSign id="{sid}">{body}</trafficSign>'


def _cr_read(
    tmp_path: Path, body: str, time: str = "", goal: str = "", dt: str = "0.1"
) -> CommonRoadScenario:
    path = tmp_path / "s.xml"
    path.write_text(
        f'<commonRoad commonRoadVersion="2020a" benchmarkID="T" timeStepSize="{dt}">{body}'
        + CR_PROBLEM.format(time=time, goal=goal)
        + "</commonRoad>"
    )
    return read_commonroad(path)


def _cr_stop_line(x: float, sign: str | None = None) -> str:
    """A stop line across the lanelet centred on y = 0 at ``x``, referencing ``sign``."""
    ref = "" if sign is None else f'<trafficSignRef ref="{sign}"/>'
    return (
        f"<stopLine><point><x>{x}</x><y>-1.75</y></point><point><x>{x}</x><y>1.75</y></point>"
        f"<lineMarking>solid</lineMarking>{ref}</stopLine>"
    )


def test_commonroad_one_sign_with_two_speed_elements_gives_the_lower(tmp_path: Path) -> None:
    """A sign holding two maximum-speed elements limits to the lower of them (the lowest of
    every limit that applies): 20 and 10 m/s -> 10, in either element order."""
    for values in (("20", "10"), ("10", "20")):
        sign = _cr_sign("10", ("274", values[0]), ("274", values[1]))
        body = _cr_lanelet("1", 0.0, '<trafficSignRef ref="10"/>') + sign
        assert _cr_read(tmp_path, body).road_map.lane("1").speed_limit_mps == 10.0


def test_commonroad_german_zone_start_274_1_is_a_speed_limit(tmp_path: Path) -> None:
    """README / SPEED_SIGNS: the German speed-zone start ``274.1`` is read as a maximum
    speed, its ``additionalValue`` in m/s: 8.33 (30 km/h) instead of the 13.89 default."""
    body = _cr_lanelet("1", 0.0, '<trafficSignRef ref="10"/>') + _cr_sign("10", ("274.1", "8.33"))
    assert _cr_read(tmp_path, body).road_map.lane("1").speed_limit_mps == 8.33


def test_commonroad_a_crosswalk_type_anywhere_makes_a_crosswalk(tmp_path: Path) -> None:
    """A lanelet with a ``crosswalk`` type is a crosswalk whichever of its ``laneletType``s
    it is: ``urban`` first, ``crosswalk`` second -> lane type crosswalk, one crosswalk
    polygon, not drivable."""
    types = "<laneletType>urban</laneletType><laneletType>crosswalk</laneletType>"
    sc = _cr_read(tmp_path, _cr_lanelet("1", 0.0, types) + _cr_lanelet("2", 3.5))
    lane = sc.road_map.lane("1")
    assert lane.lane_type == "crosswalk" and not lane.drivable
    assert len(sc.road_map.crosswalks) == 1


def test_commonroad_drivable_lanelet_keeps_its_first_type(tmp_path: Path) -> None:
    """With no crosswalk, no non-drivable type and vehicle users, the lane type is the first
    ``laneletType``: ``urban`` then ``busLane`` -> ``urban`` (drivable)."""
    types = "<laneletType>urban</laneletType><laneletType>busLane</laneletType>"
    lane = _cr_read(tmp_path, _cr_lanelet("1", 0.0, types)).road_map.lane("1")
    assert lane.lane_type == "urban" and lane.drivable


def test_commonroad_bicycles_and_pedestrians_only_is_a_bicycle_lane(tmp_path: Path) -> None:
    """Users naming no motor vehicle: the lane type is the first match of bicycle ->
    ``bicycleLane``, pedestrian -> ``sidewalk``, train -> ``rail``; bicycles and
    pedestrians together -> ``bicycleLane`` (bicycle is checked first)."""
    users = "<userOneWay>pedestrian</userOneWay><userBidirectional>bicycle</userBidirectional>"
    lane = _cr_read(tmp_path, _cr_lanelet("1", 0.0, users)).road_map.lane("1")
    assert lane.lane_type == "bicycleLane" and not lane.drivable


def test_commonroad_only_same_direction_adjacency_is_a_neighbour(tmp_path: Path) -> None:
    """Only ``drivingDir="same"`` adjacencies are lane-change targets: lanelet 1's left
    neighbour 2 driving the opposite way gives no left neighbour; the same way gives "2"."""
    for direction, want in (("opposite", None), ("same", "2")):
        adj = f'<adjacentLeft ref="2" drivingDir="{direction}"/>'
        body = _cr_lanelet("1", 0.0, adj) + _cr_lanelet("2", 3.5)
        assert _cr_read(tmp_path, body).road_map.lane("1").left_neighbor == want


def test_commonroad_stop_element_wins_over_yield_on_one_sign(tmp_path: Path) -> None:
    """Kind: ``stop`` for a sign with a stop element, ``yield`` only without one; a sign
    holding both ``206`` (stop) and ``205`` (yield) is a stop sign."""
    for order in ((("206", None), ("205", None)), (("205", None), ("206", None))):
        body = _cr_lanelet("1", 0.0, '<trafficSignRef ref="10"/>') + _cr_sign("10", *order)
        (sign,) = _cr_read(tmp_path, body).road_map.stop_signs
        assert sign.kind == "stop"


def test_commonroad_lanelet_referencing_a_sign_twice_stops_once(tmp_path: Path) -> None:
    """A lanelet referencing stop sign 10 both itself and through its stop line stops once,
    at its stop line: x = 30 on a lane from x = 0 along +x -> station 30 m."""
    extra = '<trafficSignRef ref="10"/>' + _cr_stop_line(30.0, sign="10")
    body = _cr_lanelet("1", 0.0, extra) + _cr_sign("10", ("206", None))
    (sign,) = _cr_read(tmp_path, body).road_map.stop_signs
    assert [(s.lane_id, s.station_m) for s in sign.stops] == [("1", pytest.approx(30.0))]


def test_commonroad_initial_time_step_shifts_the_light_cycles(tmp_path: Path) -> None:
    """The planning problem's initial time step is the run's t = 0, so a light cycle's
    offset moves back by it: offset 5 steps, initial step 20, dt 0.1 s -> 0.5 - 2.0 = -1.5 s."""
    light = (
        '<trafficLight id="5"><cycle>'
        "<cycleElement><duration><exact>30</exact></duration><color>red</color></cycleElement>"
        "<cycleElement><duration><exact>30</exact></duration><color>green</color></cycleElement>"
        "<timeOffset><exact>5</exact></timeOffset></cycle></trafficLight>"
    )
    sc = _cr_read(tmp_path, _cr_lanelet("1", 0.0) + light, time="<time><exact>20</exact></time>")
    (read,) = sc.road_map.traffic_lights
    assert read.cycle is not None
    assert read.cycle.offset_s == pytest.approx(-1.5)
    assert sc.initial_time_s == pytest.approx(2.0)


def test_commonroad_interval_values_are_read_at_their_midpoint(tmp_path: Path) -> None:
    """Obstacle interval values are read at their midpoint: a velocity interval [4, 6] m/s
    gives an initial speed of 5 m/s; a position point (5, 0) is taken as it is."""
    obstacle = (
        '<dynamicObstacle id="7"><type>car</type>'
        "<shape><rectangle><length>4.5</length><width>1.8</width></rectangle></shape>"
        "<initialState><position><point><x>5.0</x><y>0.0</y></point></position>"
        "<orientation><exact>0.0</exact></orientation><time><exact>0</exact></time>"
        "<velocity><intervalStart>4.0</intervalStart><intervalEnd>6.0</intervalEnd></velocity>"
        "</initialState></dynamicObstacle>"
    )
    sc = _cr_read(tmp_path, _cr_lanelet("1", 0.0) + obstacle)
    (agent,) = sc.agents
    assert agent.replay is not None
    assert agent.replay.speed_mps[0] == pytest.approx(5.0)
    assert (agent.replay.x_m[0], agent.replay.y_m[0]) == (5.0, 0.0)


def test_commonroad_goal_circle_of_zero_radius_is_refused(tmp_path: Path) -> None:
    """A goal shape of no positive size is a DataError naming the radius: radius 0."""
    goal = (
        "<goalState><position><circle><radius>0</radius><center><x>10</x><y>0</y></center>"
        "</circle></position></goalState>"
    )
    with pytest.raises(DataError, match="radius"):
        _cr_read(tmp_path, _cr_lanelet("1", 0.0), goal=goal)


# --------------------------------------------------------------------------------------------
# Lanelet2
# --------------------------------------------------------------------------------------------


def _l2_lanelet(rid: str, left: str, right: str, tags: str = "", members: str = "") -> str:
    return (
        f'<relation id="{rid}"><member type="way" role="left" ref="{left}"/>'
        f'<member type="way" role="right" ref="{right}"/>{members}'
        f'<tag k="type" v="lanelet"/>{tags}</relation>'
    )


#: Lanelet 100 runs east along y = 0 from x = 0 to 40 (right bound way 10 at y = -1.75, left
#: bound way 11 at y = 1.75); lanelet 200 runs east along y = 3.5 (right bound way 11, left
#: bound way 12 at y = 5.25). Nodes 7, 8 continue the lanelets' bounds to x = 80.
L2_NODES = {
    **{node: L2_LANELET_NODES[node] for node in ("1", "2", "3", "4", "5", "6")},
    "7": (80.0, -1.75),
    "8": (80.0, 1.75),
    # stop lines across lanelet 100 at x = 30 (20) and x = 20 (21), beyond it at x = 60 (22)
    "30": (30.0, -1.75),
    "31": (30.0, 1.75),
    "32": (20.0, -1.75),
    "33": (20.0, 1.75),
    "34": (60.0, -1.75),
    "35": (60.0, 1.75),
    # sign ways
    "40": (45.0, -3.0),
    "41": (45.0, -2.5),
    "42": (46.0, -3.0),
    "43": (46.0, -2.5),
}


def _l2_osm(
    middle: str = '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed"/>',
    middle_nodes: tuple[str, str] = ("3", "4"),
    a_tags: str = '<tag k="subtype" v="road"/>',
    b_tags: str = '<tag k="subtype" v="road"/>',
    a_members: str = "",
    extra: str = "",
) -> str:
    """Lanelets 100 (south) and 200 (north) sharing way 11 (``middle`` tags, its node
    order ``middle_nodes``), plus ``extra`` ways and relations."""
    return (
        "<osm>"
        + "".join(_l2_node(n, *xy) for n, xy in L2_NODES.items())
        + _l2_way("10", ["1", "2"], '<tag k="type" v="curbstone"/>')
        + _l2_way("11", list(middle_nodes), middle)
        + _l2_way("12", ["5", "6"], '<tag k="type" v="curbstone"/>')
        + _l2_lanelet("100", "11", "10", a_tags, a_members)
        + _l2_lanelet("200", "12", "11", b_tags)
        + extra
        + "</osm>"
    )


def test_lanelet2_one_way_vehicle_tag_overrides_one_way(tmp_path: Path) -> None:
    """``one_way:vehicle`` is read before ``one_way`` (Lanelet2): ``one_way=yes`` with
    ``one_way:vehicle=no`` is driven both ways, so ``100-reverse`` exists; the reverse
    combination is one-way."""
    two = '<tag k="subtype" v="road"/><tag k="one_way" v="yes"/><tag k="one_way:vehicle" v="no"/>'
    assert "100" + REVERSE_SUFFIX in _l2_read(tmp_path, _l2_osm(a_tags=two))
    one = '<tag k="subtype" v="road"/><tag k="one_way" v="no"/><tag k="one_way:vehicle" v="yes"/>'
    assert "100" + REVERSE_SUFFIX not in _l2_read(tmp_path, _l2_osm(a_tags=one))


def test_lanelet2_flags_read_true_and_1_as_yes(tmp_path: Path) -> None:
    """Yes/no tags take ``yes``, ``true`` and ``1``: ``lane_change=true`` on a solid line
    permits changes both ways (100 -> 200 left, 200 -> 100 right)."""
    middle = '<tag k="type" v="line_thin"/><tag k="subtype" v="solid"/>'
    for value in ("true", "1"):
        tags = middle + f'<tag k="lane_change" v="{value}"/>'
        m = _l2_read(tmp_path, _l2_osm(middle=tags))
        assert m.lane("100").left_neighbor == "200"
        assert m.lane("200").right_neighbor == "100"


def test_lanelet2_dashed_solid_permits_a_change_to_the_ways_right_only(tmp_path: Path) -> None:
    """``dashed_solid``: a change to the right of the way's direction. Way 11 runs east like
    both lanes; its right is the south lane 100: 200 may change right into 100, 100 may not
    change left into 200."""
    middle = '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed_solid"/>'
    m = _l2_read(tmp_path, _l2_osm(middle=middle))
    assert m.lane("200").right_neighbor == "100"
    assert m.lane("100").left_neighbor is None


def test_lanelet2_marking_sides_flip_for_a_bound_running_against_the_lanes(
    tmp_path: Path,
) -> None:
    """The marking's sides are relative to the way's own direction. Way 11 reversed (runs
    west, node 4 -> 3) with ``dashed_solid``: the way's right is now north (lane 200), so 100
    may change left into 200 and 200 may not change right into 100."""
    middle = '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed_solid"/>'
    m = _l2_read(tmp_path, _l2_osm(middle=middle, middle_nodes=("4", "3")))
    assert m.lane("100").left_neighbor == "200"
    assert m.lane("200").right_neighbor is None


def test_lanelet2_lane_change_left_tag_alone_forbids_the_right(tmp_path: Path) -> None:
    """An explicit ``lane_change:left=yes`` without ``lane_change:right``: only the change to
    the way's left (north: 100 -> 200) is permitted, none to its right (200 -> 100)."""
    middle = '<tag k="type" v="line_thin"/><tag k="subtype" v="dashed"/>'
    m = _l2_read(tmp_path, _l2_osm(middle=middle + '<tag k="lane_change:left" v="yes"/>'))
    assert m.lane("100").left_neighbor == "200"
    assert m.lane("200").right_neighbor is None


def _chain(b_tags: str) -> str:
    """Lanelet 100 (road, x 0..40) followed by lanelet 300 (x 40..80, ``b_tags``) sharing
    nodes 2 and 4."""
    return (
        "<osm>"
        + "".join(_l2_node(n, *xy) for n, xy in L2_NODES.items())
        + _l2_way("10", ["1", "2"])
        + _l2_way("11", ["3", "4"])
        + _l2_way("13", ["2", "7"])
        + _l2_way("14", ["4", "8"])
        + _l2_lanelet("100", "11", "10", '<tag k="subtype" v="road"/>')
        + _l2_lanelet("300", "14", "13", b_tags)
        + "</osm>"
    )


def test_lanelet2_exit_subtype_is_a_vehicle_lane(tmp_path: Path) -> None:
    """Vehicle subtypes are road, highway, play_street, exit: a road lanelet ending where an
    ``exit`` lanelet starts has it as its successor (vehicle lanes link to vehicle lanes)."""
    m = _l2_read(tmp_path, _chain('<tag k="subtype" v="exit"/>'))
    assert m.lane("100").successors == ("300",)
    assert m.lane("300").predecessors == ("100",)


def test_lanelet2_vehicle_lane_never_links_to_a_crosswalk(tmp_path: Path) -> None:
    """Successors share both bounds' end nodes *and* the same road users: a crosswalk
    lanelet starting where road lanelet 100 ends is no successor of it."""
    m = _l2_read(tmp_path, _chain('<tag k="subtype" v="crosswalk"/>'))
    assert m.lane("100").successors == ()
    assert m.lane("300").predecessors == ()


def _speed_element(rid: str, tags: str, members: str = "") -> str:
    return (
        f'<relation id="{rid}">{members}<tag k="type" v="regulatory_element"/>'
        f'<tag k="subtype" v="speed_limit"/>{tags}</relation>'
    )


def test_lanelet2_first_speed_limit_element_in_member_order_wins(tmp_path: Path) -> None:
    """Of two ``speed_limit`` elements a lanelet references, the first in member order
    counts (GermanVehicle::speedLimit): 30 km/h then 60 km/h -> 30 / 3.6 m/s."""
    members = (
        '<member type="relation" role="regulatory_element" ref="500"/>'
        '<member type="relation" role="regulatory_element" ref="501"/>'
    )
    extra = _speed_element("500", '<tag k="sign_type" v="30"/>') + _speed_element(
        "501", '<tag k="sign_type" v="60"/>'
    )
    m = _l2_read(tmp_path, _l2_osm(a_members=members, extra=extra))
    assert m.lane("100").speed_limit_mps == pytest.approx(30 / 3.6)


def test_lanelet2_speed_from_the_first_referred_sign(tmp_path: Path) -> None:
    """Without ``sign_type``, the subtype of the first traffic sign the element ``refers``
    to: ``de274-30`` before ``de274-60`` -> 30 km/h = 8.333 m/s."""
    signs = _l2_way(
        "50", ["40", "41"], '<tag k="type" v="traffic_sign"/><tag k="subtype" v="de274-30"/>'
    ) + _l2_way(
        "51", ["42", "43"], '<tag k="type" v="traffic_sign"/><tag k="subtype" v="de274-60"/>'
    )
    element = _speed_element(
        "500",
        "",
        '<member type="way" role="refers" ref="50"/><member type="way" role="refers" ref="51"/>',
    )
    members = '<member type="relation" role="regulatory_element" ref="500"/>'
    m = _l2_read(tmp_path, _l2_osm(a_members=members, extra=signs + element))
    assert m.lane("100").speed_limit_mps == pytest.approx(30 / 3.6)


def test_lanelet2_zero_speed_limit_is_refused(tmp_path: Path) -> None:
    """A speed limit must be a positive speed: ``speed_limit=0`` is a DataError naming the
    relation and the field."""
    tags = '<tag k="subtype" v="road"/><tag k="speed_limit" v="0"/>'
    with pytest.raises(DataError, match="must be a positive speed") as info:
        _l2_read(tmp_path, _l2_osm(a_tags=tags))
    assert "relation 100" in str(info.value) and "speed_limit" in str(info.value)


def test_lanelet2_two_node_stop_line_way_is_a_stop_line(tmp_path: Path) -> None:
    """Every ``type=stop_line`` way of two or more nodes is a ``RoadMap.stop_lines`` entry:
    way 20 from (30, -1.75) to (30, 1.75), length 3.5 m."""
    extra = _l2_way("20", ["30", "31"], '<tag k="type" v="stop_line"/>')
    m = _l2_read(tmp_path, _l2_osm(extra=extra))
    assert len(m.stop_lines) == 1
    np.testing.assert_allclose(
        np.asarray(m.stop_lines[0].coords), [[30.0, -1.75], [30.0, 1.75]], atol=1e-6
    )


def _sign_rule(members: str, tags: str, sign_subtype: str = "de206") -> str:
    """Lanelet 100 (one-way, 40 m) references right-of-way element 600 with ``members``;
    stop lines 20 (x = 30), 21 (x = 20), 22 (x = 60) and sign way 50 of ``sign_subtype``."""
    ways = (
        _l2_way("20", ["30", "31"], '<tag k="type" v="stop_line"/>')
        + _l2_way("21", ["32", "33"], '<tag k="type" v="stop_line"/>')
        + _l2_way("22", ["34", "35"], '<tag k="type" v="stop_line"/>')
        + _l2_way(
            "50",
            ["40", "41"],
            f'<tag k="type" v="traffic_sign"/><tag k="subtype" v="{sign_subtype}"/>',
        )
    )
    element = (
        f'<relation id="600"><member type="relation" role="yield" ref="100"/>{members}'
        '<member type="way" role="refers" ref="50"/><tag k="type" v="regulatory_element"/>'
        f'<tag k="subtype" v="right_of_way"/>{tags}</relation>'
    )
    ref = '<member type="relation" role="regulatory_element" ref="600"/>'
    return _l2_osm(a_members=ref, extra=ways + element)


def test_lanelet2_right_of_way_stops_at_its_first_ref_line(tmp_path: Path) -> None:
    """A ``right_of_way``'s yield lanelets stop at its one ``ref_line``, the first
    (RightOfWay::stopLine): line 20 (x = 30) before line 21 (x = 20) -> station 30 m."""
    members = (
        '<member type="way" role="ref_line" ref="20"/><member type="way" role="ref_line" ref="21"/>'
    )
    m = _l2_read(tmp_path, _sign_rule(members, ""))
    (sign,) = m.stop_signs
    assert sign.kind == "stop"
    assert [(s.lane_id, s.station_m) for s in sign.stops] == [
        ("100", pytest.approx(30.0, abs=1e-3))
    ]


def test_lanelet2_fallback_stop_with_line_off_its_lanelet_stops_at_the_end(
    tmp_path: Path,
) -> None:
    """A line more than 0.5 m off a lanelet is an error only for rules the planners stop at;
    a ``fallback=yes`` stop is kept, not acted on: line 22 at x = 60 misses the 40 m lanelet,
    so the lanelet stops at its end, 40 m, and the rule keeps ``fallback``."""
    members = '<member type="way" role="ref_line" ref="22"/>'
    m = _l2_read(tmp_path, _sign_rule(members, '<tag k="fallback" v="yes"/>'))
    (sign,) = m.stop_signs
    assert sign.kind == "stop" and sign.fallback
    assert [(s.lane_id, s.station_m) for s in sign.stops] == [
        ("100", pytest.approx(40.0, abs=1e-3))
    ]


# --------------------------------------------------------------------------------------------
# OpenDRIVE plan view
# --------------------------------------------------------------------------------------------


def test_gentle_arc_is_still_an_arc() -> None:
    """An arc of small curvature (1/2000 m) is a circle, not a line: after 100 m the heading
    has turned 100 / 2000 = 0.05 rad and the point lies at (sin 0.05, 1 - cos 0.05) * 2000 =
    (99.9583, 2.4990) m."""
    rec = PlanViewRecord("arc", 0.0, 0.0, 0.0, 0.0, 100.0, (1.0 / 2000.0,))
    x, y, hdg = reference_line([rec], np.array([100.0]))
    want = [2000.0 * math.sin(0.05), 2000.0 * (1.0 - math.cos(0.05)), 0.05]
    np.testing.assert_allclose([x[0], y[0], hdg[0]], want, atol=1e-9)


def test_poly3_points_lie_on_the_cubic_with_its_slope_as_heading() -> None:
    """poly3: ``v = a + b u + c u^2 + d u^3`` in the local frame, heading ``atan(dv/du)``.
    With the record at the origin heading 0, x is u and y is v: for v = 0.001 u^3 every
    point has y = 0.001 x^3 and heading atan(0.003 x^2) (at x = 20: atan(1.2))."""
    rec = PlanViewRecord("poly3", 0.0, 0.0, 0.0, 0.0, 30.0, (0.0, 0.0, 0.0, 0.001))
    x, y, hdg = reference_line([rec], np.array([5.0, 15.0, 25.0]))
    np.testing.assert_allclose(y, 0.001 * x**3, atol=1e-9)
    np.testing.assert_allclose(hdg, np.arctan(0.003 * x**2), atol=1e-9)


def test_poly3_station_is_the_arc_length_along_the_curve() -> None:
    """poly3's u is found so that the arc length along the curve is the station offset. For
    the parabola v = c u^2 (c = 0.05) the arc length to u is
    ``(2cu sqrt(1 + (2cu)^2) + asinh(2cu)) / (4c)``: at u = 20 (2cu = 2) it is
    ``(2 sqrt(5) + asinh(2)) / 0.2`` = 29.5789 m, so that station lies at x = 20, y = 20."""
    c = 0.05
    station = (2.0 * math.sqrt(5.0) + math.asinh(2.0)) / (4.0 * c)
    rec = PlanViewRecord("poly3", 0.0, 0.0, 0.0, 0.0, 40.0, (0.0, 0.0, c, 0.0))
    x, y, _ = reference_line([rec], np.array([station]))
    assert x[0] == pytest.approx(20.0, abs=1e-3)
    assert y[0] == pytest.approx(20.0, abs=2e-3)


def test_param_poly3_heading_is_the_tangent_of_both_cubics() -> None:
    """paramPoly3 heading ``atan2(dv/dp, du/dp)``. u = p + 0.001 p^3, v = 0.5 p (arcLength
    range, p = station offset): at p = 10, u = 11, v = 5, du/dp = 1 + 0.003 * 100 = 1.3,
    dv/dp = 0.5 -> heading atan2(0.5, 1.3)."""
    coeffs = (0.0, 1.0, 0.0, 0.001, 0.0, 0.5, 0.0, 0.0, 20.0)
    rec = PlanViewRecord("paramPoly3", 0.0, 0.0, 0.0, 0.0, 20.0, coeffs)
    x, y, hdg = reference_line([rec], np.array([10.0]))
    np.testing.assert_allclose([x[0], y[0]], [11.0, 5.0], atol=1e-12)
    assert hdg[0] == pytest.approx(math.atan2(0.5, 1.3), abs=1e-12)


def test_station_at_a_record_start_belongs_to_that_record() -> None:
    """A station belongs to the last record starting at or before it: s = 10 is the start of
    the second record (at (100, 50), heading pi/2), not the end of the first ((10, 0))."""
    first = PlanViewRecord("line", 0.0, 0.0, 0.0, 0.0, 10.0)
    second = PlanViewRecord("line", 10.0, 100.0, 50.0, math.pi / 2, 10.0)
    x, y, hdg = reference_line([first, second], np.array([10.0, 15.0]))
    np.testing.assert_allclose([x[0], y[0], hdg[0]], [100.0, 50.0, math.pi / 2], atol=1e-12)
    np.testing.assert_allclose([x[1], y[1]], [100.0, 55.0], atol=1e-12)


# --------------------------------------------------------------------------------------------
# OpenDRIVE junction connections
# --------------------------------------------------------------------------------------------


def _direct(connection_attrs: str, linked_link: str | None = None) -> tuple[str, ...]:
    """DIRECT's roads 1 and 2 (road 2's predecessor replaced by ``linked_link``) and a direct
    junction 8 with one connection (``connection_attrs``) taking lane -1 into road 2."""
    roads = list(DIRECT[:2])
    if linked_link is not None:
        roads[1] = roads[1].replace(
            '<predecessor elementType="junction" elementId="8"/>', linked_link
        )
    junction = (
        f'<junction id="8" type="direct"><connection id="0" incomingRoad="1" {connection_attrs}>'
        '<laneLink from="-1" to="-1"/></connection></junction>'
    )
    return (*roads, junction)


def test_direct_junction_both_road_attributes_naming_one_road_padded(tmp_path: Path) -> None:
    """Both ``connectingRoad`` and ``linkedRoad`` naming one road are read as that road; ids
    are compared without surrounding blanks (" 2 " is road "2"): lane 1_0_-1 goes on into
    2_0_-1."""
    *roads, junction = _direct('linkedRoad="2" connectingRoad=" 2 " contactPoint="start"')
    m = _read(tmp_path, *roads, junctions=junction)
    assert m.lane("1_0_-1").successors == ("2_0_-1",)


def test_direct_junction_linked_road_must_link_back_to_it(tmp_path: Path) -> None:
    """A direct junction's linked road must link to that junction at its contact point: road
    2's predecessor is junction 7 (another junction), not 8 -> DataError naming the
    connection and ``connection@contactPoint``."""
    other = (
        '<junction id="7" type="direct"><connection id="0" incomingRoad="2" linkedRoad="1" '
        'contactPoint="end"><laneLink from="1" to="1"/></connection></junction>'
    )
    *roads, junction = _direct(
        'linkedRoad="2" contactPoint="start"',
        '<predecessor elementType="junction" elementId="7"/>',
    )
    roads[0] = _road(
        "1",
        right=_lane(-1),
        left=_lane(1),
        link='<successor elementType="junction" elementId="8"/>',
    )
    with pytest.raises(DataError, match="does not link to direct junction 8") as info:
        _read(tmp_path, *roads, junctions=junction + other)
    assert "junction 8 connection 0" in str(info.value)
    assert "connection@contactPoint" in str(info.value)


def test_junction_contact_point_must_be_start_or_end(tmp_path: Path) -> None:
    """A connection's ``contactPoint`` is ``start`` or ``end``; ``middle`` is a DataError
    naming ``connection@contactPoint``."""
    *roads, junction = _direct('linkedRoad="2" contactPoint="middle"')
    with pytest.raises(DataError, match="contactPoint must be start or end") as info:
        _read(tmp_path, *roads, junctions=junction)
    assert "connection@contactPoint" in str(info.value)


def test_direct_junction_marks_every_end_of_an_incoming_road_that_meets_it(
    tmp_path: Path,
) -> None:
    """Road ends that meet a direct junction are the incoming road's ends linking to it:
    road 1 links to junction 8 at both its start and its end, so both its lanes end at the
    junction, -1 (driven east, ends at the road's end) and 1 (driven west, ends at its
    start); road 2's lane -1, starting at the junction, ends at no junction."""
    loop = _road(
        "1",
        right=_lane(-1),
        left=_lane(1),
        link='<predecessor elementType="junction" elementId="8"/>'
        '<successor elementType="junction" elementId="8"/>',
    )
    *roads, junction = _direct('linkedRoad="2" contactPoint="start"')
    m = _read(tmp_path, loop, roads[1], junctions=junction)
    assert m.lane("1_0_-1").exit_junction_id == "8"
    assert m.lane("1_0_1").exit_junction_id == "8"
    assert m.lane("2_0_-1").exit_junction_id is None
