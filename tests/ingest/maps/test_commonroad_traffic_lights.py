"""CommonRoad traffic lights -> ``RoadMap.traffic_lights``: cycles in seconds under CommonRoad's
rule, stops at the lanelets' stop lines (or their ends), DataErrors naming the field; the
Peach scenario's four lights against states computed by hand from its cycles and offsets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import DataError
from drivestack.ingest.maps._stops import station_on_lane, stop_station_m
from drivestack.ingest.maps.commonroad import read_commonroad
from drivestack.structures.road_map import Lane, RoadMap, polyline_stations


def _lanelet(lid: str, y: float, extra: str = "") -> str:
    """A 50 m lanelet along +x, 3.5 m wide, centred on ``y``."""

    def bound(tag: str, dy: float) -> str:
        pts = "".join(f"<point><x>{x}</x><y>{y + dy}</y></point>" for x in ("0.0", "50.0"))
        return f"<{tag}>{pts}</{tag}>"

    return f'<lanelet id="{lid}">{bound("leftBound", 1.75)}{bound("rightBound", -1.75)}{extra}</lanelet>'


def _stop_line(points: list[tuple[float, float]], light: str | None = None) -> str:
    pts = "".join(f"<point><x>{x}</x><y>{y}</y></point>" for x, y in points)
    ref = f'<trafficLightRef ref="{light}"/>' if light else ""
    return f"<stopLine>{pts}<lineMarking>solid</lineMarking>{ref}</stopLine>"


def _light(
    lid: str = "10",
    phases: tuple[tuple[str, str], ...] = (
        ("8", "green"),
        ("2", "yellow"),
        ("10", "red"),
        ("2", "redYellow"),
    ),
    offset: str | None = "3",
    extra: str = "<position><point><x>52.0</x><y>-3.0</y></point></position>",
) -> str:
    elements = "".join(
        f"<cycleElement><duration>{d}</duration><color>{c}</color></cycleElement>"
        for d, c in phases
    )
    time_offset = f"<timeOffset>{offset}</timeOffset>" if offset is not None else ""
    return f'<trafficLight id="{lid}"><cycle>{elements}{time_offset}</cycle>{extra}</trafficLight>'


PROBLEM = (
    '<planningProblem id="99"><initialState><position><point><x>1.0</x><y>0.0</y></point>'
    "</position><orientation><exact>0.0</exact></orientation>"
    "<velocity><exact>5.0</exact></velocity></initialState></planningProblem>"
)


def _write(tmp_path: Path, body: str, dt: str | None = "0.25") -> Path:
    path = tmp_path / "lights.xml"
    step = f' timeStepSize="{dt}"' if dt is not None else ""
    path.write_text(f'<commonRoad commonRoadVersion="2020a"{step}>{body}{PROBLEM}</commonRoad>')
    return path


def _map(tmp_path: Path, body: str, dt: str | None = "0.25") -> RoadMap:
    return read_commonroad(_write(tmp_path, body, dt)).road_map


def _message(tmp_path: Path, body: str) -> str:
    path = _write(tmp_path, body)
    with pytest.raises(DataError) as info:
        read_commonroad(path)
    assert str(info.value).startswith(str(path))  # names the file
    return str(info.value)


TWO_LANES = _lanelet("1", 0.0, '<trafficLightRef ref="10"/>') + _lanelet("2", 3.5)


def test_cycle_in_seconds_and_states_by_commonroads_rule(tmp_path: Path) -> None:
    # 0.25 s steps: green 2 s, yellow 0.5 s, red 2.5 s, redYellow 0.5 s (period 5.5 s),
    # offset 3 steps = 0.75 s; state = phase of (t - 0.75) mod 5.5 (all exact in binary)
    light = _map(tmp_path, TWO_LANES + _light()).traffic_light("10")
    assert light.cycle is not None
    assert [(p.state, p.duration_s) for p in light.cycle.phases] == [
        ("green", 2.0),
        ("yellow", 0.5),
        ("red", 2.5),
        ("red_yellow", 0.5),
    ]
    assert light.cycle.offset_s == 0.75 and light.position_m == (52.0, -3.0)
    expected = {
        0.0: "red",  # (0 - 0.75) mod 5.5 = 4.75: red runs [2.5, 5.0)
        0.75: "green",  # the cycle's start
        2.74: "green",
        2.75: "yellow",  # 2.0: a phase starts at its own start time
        3.25: "red",  # 2.5
        5.75: "red_yellow",  # 5.0
        6.25: "green",  # 5.5 = 0 of the next pass
        -4.75: "green",  # before the offset the cycle runs on backwards: -5.5 mod 5.5 = 0
    }
    assert {t: light.state_at(t) for t in expected} == expected


def test_default_time_step_and_steps_rounded_to_the_nanosecond(tmp_path: Path) -> None:
    # no timeStepSize: 0.1 s; 30 steps are 3.0 s exactly (30 * 0.1 is 3.0000000000000004)
    body = TWO_LANES + _light(phases=(("30", "green"), ("7", "red")), offset="590")
    light = _map(tmp_path, body, dt=None).traffic_light("10")
    assert light.cycle is not None
    assert [p.duration_s for p in light.cycle.phases] == [3.0, 0.7]
    assert light.cycle.offset_s == 59.0


def test_no_offset_means_zero_and_no_position_means_none(tmp_path: Path) -> None:
    light = _map(tmp_path, TWO_LANES + _light(offset=None, extra="")).traffic_light("10")
    assert light.cycle is not None and light.cycle.offset_s == 0.0
    assert light.position_m is None and light.state_at(0.0) == "green"


def test_inactive_light_shows_off(tmp_path: Path) -> None:
    body = TWO_LANES + _light(extra="<direction>all</direction><active>false</active>")
    light = _map(tmp_path, body).traffic_light("10")
    assert {light.state_at(t) for t in np.arange(0.0, 12.0, 0.25)} == {"off"}
    inactive_colour = _light(phases=(("4", "green"), ("4", "inactive")), offset="0")
    light = _map(tmp_path, TWO_LANES + inactive_colour).traffic_light("10")
    assert [light.state_at(t) for t in (0.0, 0.99, 1.0, 1.99)] == ["green", "green", "off", "off"]


def test_light_without_cycle_is_unknown(tmp_path: Path) -> None:
    body = TWO_LANES + '<trafficLight id="10"><active>true</active></trafficLight>'
    light = _map(tmp_path, body).traffic_light("10")
    assert light.cycle is None and light.state_at(3.0) == "unknown"


def test_stop_at_lane_end_without_stop_line_or_without_points(tmp_path: Path) -> None:
    lanes = _lanelet("1", 0.0, '<trafficLightRef ref="10"/>') + _lanelet(
        "2", 3.5, _stop_line([], light="10")
    )
    light = _map(tmp_path, lanes + _light()).traffic_light("10")
    assert [(s.lane_id, s.station_m) for s in light.stops] == [("1", 50.0), ("2", 50.0)]


def test_stop_where_a_slanted_stop_line_crosses_the_centreline(tmp_path: Path) -> None:
    # (29, 3.0) -> (33, 5.0) crosses lanelet 2's centreline y = 3.5 at x = 30 (its midpoint,
    # (31, 4.0), would give 31); a line from the right bound to (40, 3.0) stops short of the
    # centreline: its nearest point (40, 3.0) gives 40
    lanes = _lanelet(
        "1", 0.0, _stop_line([(40.0, -1.75), (40.0, -0.5)]) + '<trafficLightRef ref="10"/>'
    ) + _lanelet("2", 3.5, _stop_line([(29.0, 3.0), (33.0, 5.0)], light="10"))
    m = _map(tmp_path, lanes + _light())
    stops = {s.lane_id: s.station_m for s in m.traffic_light("10").stops}
    assert stops == {"1": pytest.approx(40.0), "2": pytest.approx(30.0)}
    assert [(light.light_id, pytest.approx(s)) for light, s in m.light_stops("2")] == [("10", 30.0)]


def test_a_light_named_twice_stops_once_and_unreferenced_lights_are_kept(tmp_path: Path) -> None:
    lanes = _lanelet("1", 0.0, _stop_line([], light="10") + '<trafficLightRef ref="10"/>')
    m = _map(tmp_path, lanes + _lanelet("2", 3.5) + _light() + _light("11"))
    assert [light.light_id for light in m.traffic_lights] == ["10", "11"]
    assert [s.lane_id for s in m.traffic_light("10").stops] == ["1"]
    assert m.traffic_light("11").stops == () and m.light_stops("2") == []


@pytest.mark.parametrize(
    ("light", "field", "reason"),
    [
        (
            _light(phases=(("8", "green"), ("2", "blue"))),
            "cycle/cycleElement 1/color",
            "unknown colour 'blue'",
        ),
        (_light(phases=(("8", ""),)), "cycle/cycleElement 0/color", "missing"),
        (_light(phases=(("0", "green"),)), "cycle/cycleElement 0/duration", "must be positive"),
        (_light(phases=(("-3", "red"),)), "cycle/cycleElement 0/duration", "must be positive"),
        (_light(phases=(("x", "red"),)), "cycle/cycleElement 0/duration", "not a number: 'x'"),
        (_light(phases=()), "cycle", "no cycleElement"),
        (_light(offset="abc"), "cycle/timeOffset", "not a number: 'abc'"),
        (_light(extra="<active>maybe</active>"), "active", "must be true or false"),
        (
            _light(extra="<position><point><x>1</x><y>nan</y></point></position>"),
            "position y",
            "not a finite number",
        ),
    ],
)
def test_bad_light_names_the_light_and_field(
    tmp_path: Path, light: str, field: str, reason: str
) -> None:
    message = _message(tmp_path, TWO_LANES + light)
    assert f"trafficLight 10: field {field}: {reason}" in message


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('<trafficLightRef ref="99"/>', "trafficLightRef"),
        (_stop_line([], light="99"), "stopLine/trafficLightRef"),
    ],
)
def test_reference_to_an_unknown_light(tmp_path: Path, extra: str, field: str) -> None:
    message = _message(tmp_path, _lanelet("1", 0.0, extra) + _light())
    assert f"lanelet 1: field {field}: refers to unknown traffic light '99'" in message


def test_repeated_light_id_and_stop_line_off_its_lanelet(tmp_path: Path) -> None:
    message = _message(tmp_path, TWO_LANES + _light() + _light())
    assert "trafficLight 10: field id: repeated id" in message
    off = _lanelet("1", 0.0, _stop_line([(60.0, -1.75), (60.0, 1.75)], light="10"))
    message = _message(tmp_path, off + _light())
    assert "lanelet 1: field stopLine: lies off the lanelet: station 60.00 m" in message
    bad_point = _lanelet("1", 0.0, _stop_line([(1.0, 0.0)], light="10")).replace(
        "<x>1.0</x>", "<x>east</x>"
    )
    message = _message(tmp_path, bad_point + _light())
    assert "lanelet 1: field stopLine point 0 x: not a number: 'east'" in message


def _straight_sided(centre: np.ndarray) -> Lane:
    """A lane on ``centre`` with its bounds 1.75 m to either side along y."""
    side = np.array([0.0, 1.75])
    return Lane("1", centre, centre + side, centre - side)


@settings(max_examples=60, deadline=None)
@given(
    dy=st.lists(st.floats(-0.8, 0.8), min_size=1, max_size=6),
    fraction=st.floats(0.05, 0.95),
    angle=st.floats(-1.0, 1.0),
    shift=st.floats(-0.4, 0.4),
)
def test_stop_station_is_where_a_line_crosses_the_centreline(
    dy: list[float], fraction: float, angle: float, shift: float
) -> None:
    # a centreline of 5 m segments turning by under 10 degrees each; a 3 m stop line through
    # its point at ``fraction`` of its length, turned up to ~57 degrees off the normal and slid
    # along itself: its station is that point's
    xs = 5.0 * np.arange(len(dy) + 1)
    centre = np.column_stack([xs, np.concatenate([[0.0], np.cumsum(dy)])])
    station = fraction * polyline_stations(centre)[-1]
    lane = _straight_sided(centre)
    seg = int(np.searchsorted(polyline_stations(centre), station, side="right")) - 1
    seg = min(seg, len(centre) - 2)
    d = centre[seg + 1] - centre[seg]
    t = (station - polyline_stations(centre)[seg]) / np.linalg.norm(d)
    point = centre[seg] + t * d
    heading = math.atan2(d[1], d[0]) + math.pi / 2 + angle
    u = np.array([math.cos(heading), math.sin(heading)])
    line = np.array([point + (shift - 1.5) * u, point + (shift + 1.5) * u])
    assert stop_station_m(centre, line) == pytest.approx(station, abs=1e-6)
    assert station_on_lane(lane, stop_station_m(centre, line)) == pytest.approx(station, abs=1e-6)


def test_station_on_lane_tolerance() -> None:
    centre = np.array([[0.0, 0.0], [10.0, 0.0]])
    lane = _straight_sided(centre)
    assert stop_station_m(centre, np.array([[10.3, -1.0], [10.3, 1.0]])) == pytest.approx(10.3)
    assert station_on_lane(lane, 10.3) == 10.0 and station_on_lane(lane, -0.3) == 0.0
    assert station_on_lane(lane, 10.6) is None and station_on_lane(lane, -0.6) is None
    assert stop_station_m(centre, np.array([[4.0, 7.0]])) == pytest.approx(4.0)  # one point


# --- real data: USA_Peach-4_8_T-1 (CommonRoad 2020a, timeStepSize 0.1) -------------------

#: light -> the lanelets whose trafficLightRef and stopLine name it (read off the file)
PEACH_STOPS = {
    "43918": {"43402", "43404", "43406"},
    "43919": {"43466", "43468", "43470", "43472"},
    "43920": {"43208", "43343", "43349"},
    "43921": {"43490", "43492", "43494"},
}


@pytest.mark.data
def test_peach_lights(shared_data: Path) -> None:
    sc = read_commonroad(shared_data / "commonroad" / "USA_Peach-4_8_T-1.xml")
    m = sc.road_map
    assert [light.light_id for light in m.traffic_lights] == sorted(PEACH_STOPS)
    for light in m.traffic_lights:
        assert {s.lane_id for s in light.stops} == PEACH_STOPS[light.light_id]
        # the stop lines have no points: each stop is at its lanelet's end
        for stop in light.stops:
            assert stop.station_m == m.lane(stop.lane_id).length_m
        assert light.cycle is not None
        # green 400, yellow 30, red 570 steps of 0.1 s
        assert [(p.state, p.duration_s) for p in light.cycle.phases] == [
            ("green", 40.0),
            ("yellow", 3.0),
            ("red", 57.0),
        ]
    assert m.traffic_light("43918").position_m == (13.617899999999999, -13.369799999999998)
    # timeOffset 590 steps (59 s) for 43918 / 43920, 1090 (109 s) for 43919 / 43921; period
    # 100 s. 43918 at t = 0: (0 - 59) mod 100 = 41 -> yellow [40, 43); 2.0 s: 43 -> red (its
    # first step); 9.5 s: 50.5 -> red. 43919: 91 -> red, 93 -> red, 0.5 -> green.
    by_hand = {
        "43918": ["yellow", "red", "red"],
        "43920": ["yellow", "red", "red"],
        "43919": ["red", "red", "green"],
        "43921": ["red", "red", "green"],
    }
    for lid, states in by_hand.items():
        assert [m.traffic_light(lid).state_at(t) for t in (0.0, 2.0, 9.5)] == states


@pytest.mark.data
def test_peach_states_match_commonroads_integer_rule_at_every_step(shared_data: Path) -> None:
    # CommonRoad's TrafficLight.get_state_at_time_step in whole steps, written out here, at
    # every time step t = k * dt of two periods: the seconds cycle agrees, boundaries included
    sc = read_commonroad(shared_data / "commonroad" / "USA_Peach-4_8_T-1.xml")
    steps = np.arange(2001)
    for light, offset in (("43918", 590), ("43919", 1090)):
        k = (steps - offset) % 1000
        want = np.where(k < 400, "green", np.where(k < 430, "yellow", "red"))
        got = [sc.road_map.traffic_light(light).state_at(float(i) * sc.dt_s) for i in steps]
        assert got == want.tolist()


@pytest.mark.data
def test_files_without_lights_have_none(shared_data: Path) -> None:
    sc = read_commonroad(shared_data / "commonroad" / "USA_US101-4_1_T-1.xml")
    assert sc.road_map.traffic_lights == ()
