"""Lanelet2 ``right_of_way`` and ``all_way_stop`` regulatory elements -> ``RoadMap.stop_signs``:
kinds from the referred sign (``de206`` stop, else yield) and the subtype, stops where the
``ref_line`` crosses each yield lanelet (the n-th line for the n-th lanelet of an all-way stop),
or at its end; ``fallback``; DataErrors naming the relation and field; the Karlsruhe mapping
example's two fallback yield rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.lanelet2 import REVERSE_SUFFIX, read_lanelet2
from drivestack.structures.road_map import RoadMap
from tests.ingest.maps.test_lanelet2_traffic_lights import NODES, ORIGIN, _node, _way

#: Lanelet 100 (one-way) runs east along y = 0 from x = 0 to 40 between ways 10 and 11;
#: lanelet 200 (two-way) along y = 3.5 between ways 11 and 12 (NODES). Stop line way 20 crosses
#: lanelet 100 at x = 30, way 21 lanelet 200 at x = 25, way 22 lies beyond both (x = 60).
LINE_NODES = {
    "30": (30.0, -1.75),
    "31": (30.0, 1.75),
    "32": (25.0, 1.75),
    "33": (25.0, 5.25),
    "34": (60.0, -1.75),
    "35": (60.0, 1.75),
    "36": (45.0, -3.0),  # the sign way 40
    "37": (45.0, -2.5),
}


def _osm(element: str, sign_subtype: str = "de206") -> str:
    """The two lanelets, each referencing regulatory element 400 (``element``, its members
    and tags), and sign way 40 of ``sign_subtype``."""
    ways = (
        _way("10", ["1", "2"], '<tag k="type" v="curbstone"/>')
        + _way("11", ["3", "4"], '<tag k="type" v="line_thin"/><tag k="subtype" v="solid"/>')
        + _way("12", ["5", "6"], '<tag k="type" v="curbstone"/>')
        + _way("20", ["30", "31"], '<tag k="type" v="stop_line"/>')
        + _way("21", ["32", "33"], '<tag k="type" v="stop_line"/>')
        + _way("22", ["34", "35"], '<tag k="type" v="stop_line"/>')
        + _way(
            "40",
            ["36", "37"],
            f'<tag k="type" v="traffic_sign"/><tag k="subtype" v="{sign_subtype}"/>',
        )
    )

    def lanelet(rid: str, left: str, right: str, tags: str) -> str:
        return (
            f'<relation id="{rid}"><member type="way" role="left" ref="{left}"/>'
            f'<member type="way" role="right" ref="{right}"/>'
            '<member type="relation" role="regulatory_element" ref="400"/>'
            f'<tag k="type" v="lanelet"/><tag k="subtype" v="road"/>{tags}</relation>'
        )

    nodes = NODES | LINE_NODES
    return (
        "<osm>"
        + "".join(_node(n, *xy) for n, xy in nodes.items())
        + ways
        + lanelet("100", "11", "10", '<tag k="one_way" v="yes"/>')
        + lanelet("200", "12", "11", '<tag k="one_way" v="no"/>')
        + f'<relation id="400">{element}<tag k="type" v="regulatory_element"/></relation>'
        + "</osm>"
    )


def _member(kind: str, role: str, ref: str) -> str:
    return f'<member type="{kind}" role="{role}" ref="{ref}"/>'


RIGHT_OF_WAY = (
    _member("relation", "yield", "100")
    + _member("relation", "right_of_way", "200")
    + _member("way", "ref_line", "20")
    + _member("way", "refers", "40")
    + '<tag k="subtype" v="right_of_way"/>'
)


def _read(tmp_path: Path, text: str) -> RoadMap:
    path = tmp_path / "signs.osm"
    path.write_text(text)
    return read_lanelet2(path, origin_deg=ORIGIN)


def _stops(m: RoadMap) -> dict[str, float]:
    (sign,) = m.stop_signs
    return {s.lane_id: s.station_m for s in sign.stops}


@pytest.mark.parametrize(
    ("subtype", "kind"),
    [
        ("de206", "stop"),
        ("usR1-1", "stop"),
        ("stop_sign", "stop"),
        ("de205", "yield"),
        ("de301", "yield"),
    ],
)
def test_right_of_way_kind_by_its_sign(tmp_path: Path, subtype: str, kind: str) -> None:
    m = _read(tmp_path, _osm(RIGHT_OF_WAY, subtype))
    (sign,) = m.stop_signs
    assert (sign.sign_id, sign.kind, sign.fallback) == ("400", kind, False)
    # only the yield lanelet stops, where the line crosses it; the right_of_way one does not
    assert _stops(m) == {"100": pytest.approx(30.0, abs=1e-6)}
    assert len(sign.lines) == 1


def test_right_of_way_without_line_stops_at_the_lanelet_end(tmp_path: Path) -> None:
    element = RIGHT_OF_WAY.replace(_member("way", "ref_line", "20"), "")
    m = _read(tmp_path, _osm(element))
    assert _stops(m) == {"100": pytest.approx(40.0, abs=1e-6)}
    assert m.stop_signs[0].lines == ()


def test_fallback_rule_is_kept_and_not_acted_on(tmp_path: Path) -> None:
    m = _read(tmp_path, _osm(RIGHT_OF_WAY + '<tag k="fallback" v="yes"/>'))
    (sign,) = m.stop_signs
    assert sign.fallback and sign.kind == "stop" and not sign.stops_traffic


def test_all_way_stop_pairs_lines_with_lanelets_in_order(tmp_path: Path) -> None:
    element = (
        _member("relation", "yield", "100")
        + _member("relation", "yield", "200")
        + _member("way", "ref_line", "20")
        + _member("way", "ref_line", "21")
        + '<tag k="subtype" v="all_way_stop"/>'
    )
    m = _read(tmp_path, _osm(element))
    (sign,) = m.stop_signs
    assert sign.kind == "all_way_stop" and sign.stops_traffic
    # lanelet 200 is two-way: only its own direction drives towards x = 25 (past its middle)
    assert _stops(m) == {"100": pytest.approx(30.0, abs=1e-6), "200": pytest.approx(25.0, abs=1e-6)}
    assert "200" + REVERSE_SUFFIX not in _stops(m)
    # without lines every lanelet stops at its end (a two-way one in its own direction)
    bare = element.replace(_member("way", "ref_line", "20"), "").replace(
        _member("way", "ref_line", "21"), ""
    )
    assert _stops(_read(tmp_path, _osm(bare))) == {
        "100": pytest.approx(40.0, abs=1e-6),
        "200": pytest.approx(40.0, abs=1e-6),
    }


def _error(tmp_path: Path, element: str) -> str:
    path = tmp_path / "signs.osm"
    path.write_text(_osm(element))
    with pytest.raises(DataError) as info:
        read_lanelet2(path, origin_deg=ORIGIN)
    message = str(info.value)
    assert message.startswith(str(path)) and "relation 400" in message
    return message


def test_bad_elements_are_data_errors(tmp_path: Path) -> None:
    one_line = (
        _member("relation", "yield", "100")
        + _member("relation", "yield", "200")
        + _member("way", "ref_line", "20")
        + '<tag k="subtype" v="all_way_stop"/>'
    )
    assert "field ref_line: an all-way stop needs one ref_line per yield lanelet" in _error(
        tmp_path, one_line
    )
    not_a_lanelet = RIGHT_OF_WAY.replace(
        _member("relation", "yield", "100"), _member("way", "yield", "10")
    )
    assert "field member yield: way 10 is no lanelet" in _error(tmp_path, not_a_lanelet)
    unknown = RIGHT_OF_WAY.replace(
        _member("way", "ref_line", "20"), _member("way", "ref_line", "99")
    )
    assert "field member ref_line: unknown way 99" in _error(tmp_path, unknown)
    # a stop sign's line that misses its lanelet would misplace a stop the planners act on
    off = RIGHT_OF_WAY.replace(_member("way", "ref_line", "20"), _member("way", "ref_line", "22"))
    assert "field ref_line: the stop line lies off lanelet 100" in _error(tmp_path, off)


def test_a_yield_line_off_its_lanelet_stops_at_its_end(tmp_path: Path) -> None:
    off = RIGHT_OF_WAY.replace(_member("way", "ref_line", "20"), _member("way", "ref_line", "22"))
    assert _stops(_read(tmp_path, _osm(off, "de205"))) == {"100": pytest.approx(40.0, abs=1e-6)}


def test_mapping_example_rules(shared_data: Path) -> None:
    m = read_lanelet2(shared_data / "lanelet2" / "mapping_example.osm")
    rules = {s.sign_id: s for s in m.stop_signs}
    assert sorted(rules) == ["45230", "45236"]
    # both fallback yields for when the junction's lights are out (signs de205 / de301):
    # kept, not acted on; their yield lanelets stop at their ends
    assert all(s.kind == "yield" and s.fallback and not s.stops_traffic for s in rules.values())
    assert rules["45230"].lane_ids == ("45014", "45016")
    assert rules["45236"].lane_ids == ("45134", "45136")
    for sign in rules.values():
        for stop in sign.stops:
            assert stop.station_m == pytest.approx(m.lane(stop.lane_id).length_m)
    # 45230's line crosses its yield lanelets at their ends, where the junction's light 45226
    # (the same line) stops them
    light = {s.lane_id: s.station_m for s in m.traffic_light("45226").stops}
    assert {s.lane_id: s.station_m for s in rules["45230"].stops} == pytest.approx(light)
