"""Map-reader rules pinned with hand-derived values: OpenDRIVE lane widths, speed records,
road-mark lane-change rules, plan-view chaining, lane sections, driving side, signals and lane
positions; Argoverse 2 lane changes by mark type, intersections, default speed and lane
directions; synthetic road maps (mitred offsets, arcs, crosswalks, stop lines, the merge taper,
kerb lights). Each test builds a small file (or calls a builder) by hand; the expected values
follow from the rule as the module docstrings state it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps import parse_opendrive, read_av2_road_map, read_opendrive
from drivestack.ingest.maps.av2_lanes import read_av2_lanes
from drivestack.ingest.maps.av2_road_map import read_av2_road_map_counted
from drivestack.ingest.maps.synthetic import (
    arc,
    four_way_intersection,
    kerb_light_position,
    merge_road,
    offset_polyline,
    straight_road,
)
from tests.ingest.maps.test_av2_road_map import _segment
from tests.ingest.maps.test_av2_road_map import _write as _av2_write
from tests.ingest.maps.test_opendrive import _lane, _read, _road, _two_section_road, _write
from tests.ingest.maps.test_opendrive_traffic_lights import _read as _sig_read
from tests.ingest.maps.test_opendrive_traffic_lights import _road as _sig_road
from tests.ingest.maps.test_opendrive_traffic_lights import _signal, _stops

# --------------------------------------------------------------------------------------------
# OpenDRIVE: lanes
# --------------------------------------------------------------------------------------------


def test_opendrive_a_slightly_negative_width_is_refused(tmp_path: Path) -> None:
    """A width of -0.3 m is negative (only rounding, > -1e-6 m, is tolerated): a DataError
    saying "negative width", not a lane with its borders swapped."""
    road = _road(right=_lane(-1, -0.3), left=_lane(1))
    with pytest.raises(DataError, match=r"negative width -0\.300 m"):
        read_opendrive(_write(tmp_path, road))


def test_opendrive_a_two_centimetre_lane_is_kept(tmp_path: Path) -> None:
    """Lanes narrower than 1 cm over their whole section are left out; one 2 cm wide is
    kept, its centre 1 cm right of the reference line."""
    m = _read(tmp_path, _road(right=_lane(-1, 0.02), left=_lane(1)))
    assert "1_0_-1" in m
    np.testing.assert_allclose(m.lane("1_0_-1").centerline_m[0], [0.0, -0.01], atol=1e-12)


def _two_section(lane_extra: tuple[str, str] = ("", ""), road_extra: str = "") -> str:
    """Road 1 along +x, 100 m, lane sections at s 0 and 50, lanes -1 and -2 (3.5 m each) in
    both; ``lane_extra``: extra XML inside lane -1 of each section."""
    sections = "".join(
        f'<laneSection s="{s}"><center><lane id="0" type="none"/></center><right>'
        + _lane(-1, extra=extra)
        + _lane(-2)
        + "</right></laneSection>"
        for s, extra in zip((0, 50), lane_extra, strict=True)
    )
    return (
        f'<road id="1" length="100" junction="-1">{road_extra}<planView>'
        '<geometry s="0" x="0" y="0" hdg="0" length="100"><line/></geometry></planView>'
        f"<lanes>{sections}</lanes></road>"
    )


def test_opendrive_road_type_speed_in_force_at_each_section_start(tmp_path: Path) -> None:
    """The road ``<type>`` speed in force at the section's start is the last type starting at
    or before it: 30 km/h from s 0, 60 km/h from s 50 -> section 0: 30 / 3.6 = 8.333 m/s,
    section 1 (starts at s 50): 60 / 3.6 = 16.667 m/s."""
    types = (
        '<type s="0" type="town"><speed max="30" unit="km/h"/></type>'
        '<type s="50" type="town"><speed max="60" unit="km/h"/></type>'
    )
    m = _read(tmp_path, _two_section(road_extra=types))
    assert m.lane("1_0_-1").speed_limit_mps == pytest.approx(30 / 3.6)
    assert m.lane("1_1_-1").speed_limit_mps == pytest.approx(60 / 3.6)


def test_opendrive_undefined_lane_speed_counts_as_none(tmp_path: Path) -> None:
    """``max="undefined"`` (like ``no limit``) is no limit: the lane falls back to the
    default speed limit, 9 m/s here."""
    road = _road(right=_lane(-1, extra='<speed sOffset="0" max="undefined"/>'))
    m = read_opendrive(_write(tmp_path, road), default_speed_limit_mps=9.0)
    assert m.lane("1_0_-1").speed_limit_mps == 9.0


def test_opendrive_a_zero_speed_limit_is_refused(tmp_path: Path) -> None:
    """A speed limit must be positive: ``max="0"`` is a DataError."""
    road = _road(right=_lane(-1, extra='<speed sOffset="0" max="0" unit="m/s"/>'))
    with pytest.raises(DataError, match="speed limit must be positive"):
        read_opendrive(_write(tmp_path, road))


def _neighbours_with(tmp_path: Path, marks: str) -> tuple[str | None, str | None]:
    """(lane -2's left neighbour, lane -1's right neighbour) with ``marks`` on lane -1 (the
    border between -1 and -2 is lane -1's outer border), on a 100 m single-section road."""
    m = _read(tmp_path, _road(right=_lane(-1, extra=marks) + _lane(-2), left=_lane(1)))
    return m.lane("1_0_-2").left_neighbor, m.lane("1_0_-1").right_neighbor


@pytest.mark.parametrize("mark_type", ["botts dots", "broken broken"])
def test_opendrive_crossable_mark_types_permit_both_ways(tmp_path: Path, mark_type: str) -> None:
    """``botts dots`` and ``broken broken`` are crossable marks: both changes allowed."""
    marks = f'<roadMark sOffset="0" type="{mark_type}"/>'
    assert _neighbours_with(tmp_path, marks) == ("1_0_-1", "1_0_-2")


def test_opendrive_a_road_mark_without_type_is_crossable(tmp_path: Path) -> None:
    """A ``<roadMark>`` without ``type`` has type ``none`` (crossable): both ways."""
    assert _neighbours_with(tmp_path, '<roadMark sOffset="0"/>') == ("1_0_-1", "1_0_-2")


def test_opendrive_the_mark_in_force_halfway_decides(tmp_path: Path) -> None:
    """The mark in force halfway along the 100 m section (s 50) decides: broken from 0, solid
    from 40 -> solid at 50: no change either way."""
    marks = '<roadMark sOffset="0" type="broken"/><roadMark sOffset="40" type="solid"/>'
    assert _neighbours_with(tmp_path, marks) == (None, None)


def test_opendrive_a_mark_starting_after_halfway_still_decides(tmp_path: Path) -> None:
    """When no mark starts by halfway (only a solid one from s 70), the first mark decides:
    solid -> no change (not the unmarked default, both)."""
    assert _neighbours_with(tmp_path, '<roadMark sOffset="70" type="solid"/>') == (None, None)


@pytest.mark.parametrize(
    "change, lane1_right, lane2_left",
    [("both", "1_0_2", "1_0_1"), ("increase", "1_0_2", None), ("decrease", None, "1_0_1")],
)
def test_opendrive_left_lanes_change_sides_as_seen_along_their_drive(
    tmp_path: Path, change: str, lane1_right: str | None, lane2_left: str | None
) -> None:
    """Left lanes 1 and 2 drive against the reference line (RHT), so seen along their drive
    lane 2 lies right of lane 1 and the centre lane left of it. The mark between them is lane
    1's: ``increase`` permits 1 -> 2 only, ``decrease`` 2 -> 1 only; never into lane 0."""
    mark = f'<roadMark sOffset="0" type="broken" laneChange="{change}"/>'
    m = _read(tmp_path, _road(left=_lane(1, extra=mark) + _lane(2), right=_lane(-1)))
    one, two = m.lane("1_0_1"), m.lane("1_0_2")
    assert (one.left_neighbor, one.right_neighbor) == (None, lane1_right)
    assert (two.left_neighbor, two.right_neighbor) == (lane2_left, None)


def test_opendrive_a_road_rule_overrides_the_header_rule(tmp_path: Path) -> None:
    """A road's own ``rule="RHT"`` wins over a header ``rule="LHT"``: lane -1 drives along the
    reference line (+x), its centreline starting at (0, -1.75)."""
    path = tmp_path / "map.xodr"
    path.write_text(
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6" rule="LHT"/>'
        + _road(attrs='rule="RHT"', left=_lane(1), right=_lane(-1))
        + "</OpenDRIVE>"
    )
    m = read_opendrive(path)
    np.testing.assert_allclose(m.lane("1_0_-1").centerline_m[0], [0.0, -1.75], atol=1e-12)
    np.testing.assert_allclose(m.lane("1_0_1").centerline_m[0], [100.0, 1.75], atol=1e-12)


def test_opendrive_a_sidewalk_is_no_successor_of_a_driving_lane(tmp_path: Path) -> None:
    """Lane -1 is a sidewalk in section 0 and driving in section 1, linked: links join lanes
    of the same kind only, so the sidewalk has no successor and the driving lane no predecessor."""
    road = _two_section(  # then section 0's lane -1 made a sidewalk
        (
            '<link><successor id="-1"/></link>',
            '<link><predecessor id="-1"/></link>',
        )
    ).replace('<lane id="-1" type="driving"><width', '<lane id="-1" type="sidewalk"><width', 1)
    m = _read(tmp_path, road)
    assert m.lane("1_0_-1").lane_type == "sidewalk"
    assert m.lane("1_1_-1").lane_type == "driving"
    assert m.lane("1_0_-1").successors == ()
    assert m.lane("1_1_-1").predecessors == ()


# --------------------------------------------------------------------------------------------
# OpenDRIVE: plan view, lane sections, positions
# --------------------------------------------------------------------------------------------


def _two_lines(s2: float, x2: float, y2: float, length: float) -> str:
    geometry = (
        '<geometry s="0" x="0" y="0" hdg="0" length="50"><line/></geometry>'
        f'<geometry s="{s2}" x="{x2}" y="{y2}" hdg="0" length="50"><line/></geometry>'
    )
    return _road(length=length, geometry=geometry, right=_lane(-1))


def test_opendrive_a_five_centimetre_gap_in_s_is_refused(tmp_path: Path) -> None:
    """Records must chain in ``s`` within 0.01 m: the second line starting at s 50.05 after
    one ending at s 50 (a 0.05 m gap) is a DataError."""
    with pytest.raises(DataError, match="must chain end to start"):
        read_opendrive(_write(tmp_path, _two_lines(50.05, 50.0, 0.0, 100.05)))


def test_opendrive_a_twenty_centimetre_jump_in_xy_is_refused(tmp_path: Path) -> None:
    """Records must chain in x, y within 0.05 m: the second line starting at (50, 0.2) where
    the first ends at (50, 0) (a 0.2 m jump) is a DataError."""
    with pytest.raises(DataError, match="without a jump"):
        read_opendrive(_write(tmp_path, _two_lines(50.0, 50.0, 0.2, 100.0)))


def test_opendrive_a_road_shorter_than_its_plan_view_is_refused(tmp_path: Path) -> None:
    """``road@length`` 99 m with a plan view ending at s 100: 1 m off (more than 0.01 m)."""
    road = _road(length=99.0, right=_lane(-1))
    with pytest.raises(DataError, match="plan view ends at s 100"):
        read_opendrive(_write(tmp_path, road))


def test_opendrive_a_lane_section_half_a_metre_past_the_road_end_is_refused(
    tmp_path: Path,
) -> None:
    """A lane section starting at s 100.5 on a 100 m road lies off it (tolerance 1e-6 m)."""
    road = _road(right=_lane(-1)).replace(
        "</lanes>",
        '<laneSection s="100.5"><center><lane id="0" type="none"/></center><right>'
        + _lane(-1)
        + "</right></laneSection></lanes>",
    )
    with pytest.raises(DataError, match="off the road"):
        read_opendrive(_write(tmp_path, road))


def test_opendrive_locate_on_a_section_border_takes_the_section_starting_there(
    tmp_path: Path,
) -> None:
    """Road 7's lane sections start at s 0 and 60: s 60 lies in section 1 (the last one
    starting at or before it), at station 0 of lane 7_1_-1 (which runs along +x from s 60)."""
    network = parse_opendrive(_write(tmp_path, _two_section_road()))
    pos = network.locate(network.road_map(), "7", -1, 60.0)
    assert pos.lane_id == "7_1_-1"
    assert pos.station_m == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------------------------
# OpenDRIVE: signals
# --------------------------------------------------------------------------------------------


def test_opendrive_signal_without_orientation_is_valid_both_ways(tmp_path: Path) -> None:
    """No ``orientation`` means ``none``: both directions. At s 60 on the 100 m road: lanes -1
    and -2 (along +x) stop at station 60, lane 1 (against) at 100 - 60 = 40."""
    signal = _signal("5").replace(' orientation="+"', "")
    stops = _stops(_sig_read(tmp_path, _sig_road(signal)), "5")
    assert stops == pytest.approx({"1_0_-1": 60.0, "1_0_-2": 60.0, "1_0_1": 40.0})


def test_opendrive_signal_validity_range_given_high_to_low(tmp_path: Path) -> None:
    """``fromLane="-1" toLane="-2"`` is the range -2..-1 either way round: both right lanes."""
    validity = '<validity fromLane="-1" toLane="-2"/>'
    stops = _stops(_sig_read(tmp_path, _sig_road(_signal("5", validity=validity))), "5")
    assert set(stops) == {"1_0_-1", "1_0_-2"}


def test_opendrive_signal_validity_range_includes_its_low_end(tmp_path: Path) -> None:
    """``fromLane="-2" toLane="-1"`` includes both ends: lanes -2 and -1."""
    validity = '<validity fromLane="-2" toLane="-1"/>'
    stops = _stops(_sig_read(tmp_path, _sig_road(_signal("5", validity=validity))), "5")
    assert set(stops) == {"1_0_-1", "1_0_-2"}


def test_opendrive_signal_position_is_t_left_of_the_reference_line(tmp_path: Path) -> None:
    """The light stands at (s, t) of its road: s 60, t -9 on a road along +x from the origin
    -> (60, -9) (negative t is right); without ``t``, t = 0 -> (60, 0)."""
    m = _sig_read(tmp_path, _sig_road(_signal("5")))
    assert m.traffic_light("5").position_m == pytest.approx((60.0, -9.0))
    no_t = _signal("6").replace(' t="-9.0"', "")
    m2 = _sig_read(tmp_path, _sig_road(no_t))
    assert m2.traffic_light("6").position_m == pytest.approx((60.0, 0.0))


def test_opendrive_a_reference_on_the_signals_own_lanes_adds_no_stop_twice(
    tmp_path: Path,
) -> None:
    """A ``<signalReference>`` naming lanes the signal already stops adds nothing: one stop
    per lane (lanes -1 and -2, orientation +)."""
    ref = '<signalReference id="5" s="60" t="0" orientation="+"/>'
    m = _sig_read(tmp_path, _sig_road(_signal("5") + ref))
    lane_ids = [s.lane_id for s in m.traffic_light("5").stops]
    assert sorted(lane_ids) == ["1_0_-1", "1_0_-2"]


# --------------------------------------------------------------------------------------------
# Argoverse 2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mark", "one_left", "two_right"),
    [
        # dashed part on the left along travel: only lane 2 (left of the line) may cross
        ("DASH_SOLID_YELLOW", None, "1"),
        # solid part on the left: only lane 1 (right of the line) may cross
        ("SOLID_DASH_YELLOW", "2", None),
    ],
)
def test_av2_yellow_dash_solid_marks_are_crossed_from_the_dashed_side(
    tmp_path: Path, mark: str, one_left: str | None, two_right: str | None
) -> None:
    """Lane 1 (y 0..4) and lane 2 (y 4..8) both run +x and name each other neighbours; the
    line between them is lane 1's left and lane 2's right mark. The first word of the mark is
    its left part along travel, the side lane 2 is on."""
    lanes = [
        _segment(1, [(0.0, 4.0), (20.0, 4.0)], [(0.0, 0.0), (20.0, 0.0)], neighbours=(2, None)),
        _segment(2, [(0.0, 8.0), (20.0, 8.0)], [(0.0, 4.0), (20.0, 4.0)], neighbours=(None, 1)),
    ]
    lanes[0]["left_lane_mark_type"] = lanes[1]["right_lane_mark_type"] = mark
    doc = {
        "lane_segments": {str(lane["id"]): lane for lane in lanes},
        "pedestrian_crossings": {},
        "drivable_areas": {},
    }
    _av2_write(tmp_path / "map", doc)
    m = read_av2_road_map(tmp_path / "map")
    assert m.lane("1").left_neighbor == one_left
    assert m.lane("2").right_neighbor == two_right


def _av2_doc(*lanes: dict[str, Any]) -> dict[str, Any]:
    return {
        "lane_segments": {str(lane["id"]): lane for lane in lanes},
        "pedestrian_crossings": {},
        "drivable_areas": {},
    }


def test_av2_a_neighbour_that_does_not_name_the_lane_back_is_no_lane_change(
    tmp_path: Path,
) -> None:
    """Lane 1 names lane 2 its left neighbour across a dashed line, but lane 2 names no
    neighbour at all: a neighbour counts only when it names the lane back on its other side,
    so lane 1 gets no left neighbour and the reference is counted as dropped (1)."""
    one = _segment(
        1,
        [(0.0, 4.0), (20.0, 4.0)],
        [(0.0, 0.0), (20.0, 0.0)],
        marks=("DASHED_WHITE", "SOLID_WHITE"),
        neighbours=(2, None),
    )
    two = _segment(
        2,
        [(0.0, 8.0), (20.0, 8.0)],
        [(0.0, 4.0), (20.0, 4.0)],
        marks=("SOLID_WHITE", "DASHED_WHITE"),
    )
    _av2_write(tmp_path / "map", _av2_doc(one, two))
    m, counts = read_av2_road_map_counted(tmp_path / "map")
    assert m.lane("1").left_neighbor is None
    assert counts.neighbours_dropped == 1


def test_av2_no_lane_change_between_a_bike_lane_and_a_vehicle_lane(tmp_path: Path) -> None:
    """A vehicle lane (y 0..4) and a bike lane left of it (y 4..6) name each other across a
    dashed line: a change needs both drivable or both bicycle lanes, so neither gets the
    other as a neighbour (2 references dropped)."""
    car = _segment(
        1,
        [(0.0, 4.0), (20.0, 4.0)],
        [(0.0, 0.0), (20.0, 0.0)],
        marks=("DASHED_WHITE", "SOLID_WHITE"),
        neighbours=(2, None),
    )
    bike = _segment(
        2,
        [(0.0, 6.0), (20.0, 6.0)],
        [(0.0, 4.0), (20.0, 4.0)],
        lane_type="BIKE",
        marks=("SOLID_WHITE", "DASHED_WHITE"),
        neighbours=(None, 1),
    )
    _av2_write(tmp_path / "map", _av2_doc(car, bike))
    m, counts = read_av2_road_map_counted(tmp_path / "map")
    assert m.lane("1").left_neighbor is None
    assert m.lane("2").right_neighbor is None
    assert counts.neighbours_dropped == 2


def test_av2_intersection_segments_that_only_touch_are_one_junction(tmp_path: Path) -> None:
    """Intersection segments 11 (y 0..4) and 12 (y 4..8), side by side over x 20..30, share
    only their border y = 4 and name no link: touching areas join them, so both lie in the
    junction named after the smaller id, ``av2-junction-11``."""
    a = _segment(11, [(20.0, 4.0), (30.0, 4.0)], [(20.0, 0.0), (30.0, 0.0)], is_intersection=True)
    b = _segment(12, [(20.0, 8.0), (30.0, 8.0)], [(20.0, 4.0), (30.0, 4.0)], is_intersection=True)
    _av2_write(tmp_path / "map", _av2_doc(a, b))
    m = read_av2_road_map(tmp_path / "map")
    assert m.lane("11").junction_id == "av2-junction-11"
    assert m.lane("12").junction_id == "av2-junction-11"


def test_av2_links_listed_on_one_side_only_are_counted(tmp_path: Path) -> None:
    """Lanes 1 -> 2 -> 3 along +x: 1 -> 2 is listed on both sides (1's successor, 2's
    predecessor), 2 -> 3 only as 2's successor: one link added (predecessors_added 1), and
    lane 3 gets predecessor 2 all the same."""
    one = _segment(1, [(0.0, 4.0), (10.0, 4.0)], [(0.0, 0.0), (10.0, 0.0)], successors=(2,))
    two = _segment(
        2,
        [(10.0, 4.0), (20.0, 4.0)],
        [(10.0, 0.0), (20.0, 0.0)],
        successors=(3,),
        predecessors=(1,),
    )
    three = _segment(3, [(20.0, 4.0), (30.0, 4.0)], [(20.0, 0.0), (30.0, 0.0)])
    _av2_write(tmp_path / "map", _av2_doc(one, two, three))
    m, counts = read_av2_road_map_counted(tmp_path / "map")
    assert counts.predecessors_added == 1
    assert m.lane("3").predecessors == ("2",)
    assert m.lane("2").predecessors == ("1",)


def test_av2_a_zero_default_speed_is_refused(tmp_path: Path) -> None:
    """``default_speed_limit_mps`` must be a positive speed: 0 is a ValueError (checked
    before the folder is read)."""
    with pytest.raises(ValueError, match="positive speed"):
        read_av2_road_map_counted(tmp_path / "nowhere", 0.0)


def _lane_dirs(tmp_path: Path, lanes: dict[str, Any]) -> Any:
    folder = tmp_path / "map"
    folder.mkdir()
    doc = {"lane_segments": lanes, "drivable_areas": {}, "pedestrian_crossings": {}}
    (folder / "log_map_archive_log0____PIT_city_1.json").write_text(json.dumps(doc))
    return read_av2_lanes(folder)


def _dir_lane(left: list[tuple[float, float]], right: list[tuple[float, float]]) -> Any:
    line = [[{"x": x, "y": y, "z": 0.0} for x, y in pts] for pts in (left, right)]
    return {
        "id": 0,
        "lane_type": "VEHICLE",
        "is_intersection": False,
        "left_lane_boundary": line[0],
        "right_lane_boundary": line[1],
    }


def test_av2_lane_directions_nearest_area_before_nearest_centreline(tmp_path: Path) -> None:
    """The nearest lane is the one whose area is nearest, then whose centreline is. Lane A
    runs +x on y 0..10 (centreline y 5); lane B, 2 m wide, rises at 5 degrees with its right
    boundary from (0, 10.2). At (10, 9.5) the point is inside A (area distance 0, centreline
    4.5 m off) and about 1.57 m from B's area ((11.075 - 9.5) cos 5 deg) with B's centreline
    about 2.56 m off: A, heading 0, wins although B's centreline is nearer. B lies within the
    10 degree spread, so the two agree and the answer is A's heading, 0."""
    rise = 20.0 * math.tan(math.radians(5.0))
    lanes = {
        "1": _dir_lane([(0.0, 10.0), (20.0, 10.0)], [(0.0, 0.0), (20.0, 0.0)]),
        "2": _dir_lane([(0.0, 12.2), (20.0, 12.2 + rise)], [(0.0, 10.2), (20.0, 10.2 + rise)]),
    }
    dirs = _lane_dirs(tmp_path, lanes)
    heading = dirs.heading_rad(np.array([[10.0, 9.5]]), 2.0, math.radians(10.0))
    assert heading[0] == pytest.approx(0.0, abs=1e-9)


def test_av2_lane_directions_equal_headings_agree_at_zero_spread(tmp_path: Path) -> None:
    """Two overlapping lanes both running +x differ by 0 rad, which is within a spread of
    0 rad (the spread is a ``<=`` bound): the heading is 0, not NaN."""
    lanes = {
        "1": _dir_lane([(0.0, 4.0), (20.0, 4.0)], [(0.0, 0.0), (20.0, 0.0)]),
        "2": _dir_lane([(0.0, 5.0), (20.0, 5.0)], [(0.0, 1.0), (20.0, 1.0)]),
    }
    heading = _lane_dirs(tmp_path, lanes).heading_rad(np.array([[10.0, 2.5]]), 0.0, 0.0)
    assert heading[0] == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------------------------
# Synthetic maps
# --------------------------------------------------------------------------------------------


def test_synthetic_offset_polyline_mitres_a_140_degree_turn() -> None:
    """(0, 0) -> (1, 0) then a 140 degree left turn: the mitred vertex offset 1 m left lies
    where the two offset lines meet, 1 / cos 70 deg along the bisector: on y = 1 at
    x = 1 - tan 70 deg (the scale 1 / cos 70 = 2.92 is under the 1 / 0.2 = 5 cap)."""
    turn = math.radians(140.0)
    line = np.array([[0.0, 0.0], [1.0, 0.0], [1.0 + math.cos(turn), math.sin(turn)]])
    out = offset_polyline(line, 1.0)
    np.testing.assert_allclose(out[1], [1.0 - math.tan(math.radians(70.0)), 1.0], atol=1e-12)


def test_synthetic_arc_points_at_most_step_apart() -> None:
    """A quarter arc of radius 1 m with 1 m steps: ceil(pi / 2) + 1 = 3 points, at 0, 45 and
    90 degrees."""
    pts = arc((0.0, 0.0), 1.0, 0.0, math.pi / 2)
    h = math.sqrt(0.5)
    np.testing.assert_allclose(pts, [[1.0, 0.0], [h, h], [0.0, 1.0]], atol=1e-12)


def test_synthetic_intersection_crosswalk_and_stop_line_places() -> None:
    """With box half-size 10 m the east arm's crosswalk spans 1.5 m either side of 12 m from
    the centre (x 10.5..13.5) across the box width (y -10..10), and its stop line crosses the
    inbound lane (driving -x, so on the +y side: y 0..3.5) at x = 10 + 4 = 14."""
    m = four_way_intersection(box_half_m=10.0, lane_width_m=3.5)
    np.testing.assert_allclose(m.crosswalks[0].bounds, (10.5, -10.0, 13.5, 10.0), atol=1e-12)
    np.testing.assert_allclose(
        np.asarray(m.stop_lines[0].coords), [[14.0, 0.0], [14.0, 3.5]], atol=1e-12
    )


def test_synthetic_merge_ramp_tapers_over_the_last_150_m() -> None:
    """The ramp's centre is ramp_offset (20 m) below the main lane's (y 1.75) until 150 m
    before the merge (x 50 for merge at x 200): y = -18.25; halfway through the smoothstep
    (x 125, blend 0.5, smoothstep 0.5) it is 10 m below: y = -8.25; at the merge y = 1.75."""
    ramp = merge_road(merge_x_m=200.0, ramp_offset_m=20.0, lane_width_m=3.5).lane("ramp")
    c = ramp.centerline_m
    for x, y in ((0.0, -18.25), (50.0, -18.25), (125.0, -8.25), (200.0, 1.75)):
        k = int(np.argmin(np.abs(c[:, 0] - x)))
        assert c[k, 0] == pytest.approx(x)
        assert c[k, 1] == pytest.approx(y)


def test_synthetic_kerb_light_at_zero_offset_is_the_kerb() -> None:
    """``kerb_offset_m`` 0 is allowed (>= 0): the light stands on the kerb itself, the right
    boundary of the rightmost lane (road_0, y 0) level with station 50 of road_1 on the
    straight road from x -100: (-50, 0). With the default 1 m it stands 1 m further right of
    the +x drive, on the -y side: (-50, -1)."""
    m = straight_road()
    assert kerb_light_position(m, "road_1", 50.0, 0.0) == pytest.approx((-50.0, 0.0))
    assert kerb_light_position(m, "road_1", 50.0) == pytest.approx((-50.0, -1.0))
