"""CommonRoad stop and yield signs -> ``RoadMap.stop_signs``: a lanelet referencing a stop sign
(through its stop line or itself) stops at its stop line, or its end; the kinds by sign id and
country; DataErrors naming the file, lanelet and field; the shared scenarios have none."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import read_commonroad
from drivestack.structures.road_map import RoadMap

PROBLEM = (
    '<planningProblem id="99"><initialState><position><point><x>1.0</x><y>0.0</y></point>'
    "</position><orientation><exact>0.0</exact></orientation>"
    "<velocity><exact>5.0</exact></velocity></initialState></planningProblem>"
)


def _lanelet(lid: str, y: float, extra: str = "") -> str:
    """A 50 m lanelet along +x from x = 0, 3.5 m wide, centred on ``y``."""

    def bound(tag: str, dy: float) -> str:
        pts = "".join(f"<point><x>{x}</x><y>{y + dy}</y></point>" for x in ("0.0", "50.0"))
        return f"<{tag}>{pts}</{tag}>"

    return (
        f'<lanelet id="{lid}">{bound("leftBound", 1.75)}{bound("rightBound", -1.75)}{extra}'
        "</lanelet>"
    )


def _stop_line(x: float | None, y: float = 0.0, sign: str | None = None) -> str:
    """A stop line across the lane centred on ``y`` at ``x`` (no points when ``None``),
    referencing traffic sign ``sign``."""
    pts = (
        ""
        if x is None
        else f"<point><x>{x}</x><y>{y - 1.75}</y></point><point><x>{x}</x><y>{y + 1.75}</y></point>"
    )
    ref = f'<trafficSignRef ref="{sign}"/>' if sign else ""
    return f"<stopLine>{pts}<lineMarking>solid</lineMarking>{ref}</stopLine>"


def _sign(sid: str, *element_ids: str) -> str:
    elements = "".join(
        f"<trafficSignElement><trafficSignID>{e}</trafficSignID></trafficSignElement>"
        for e in element_ids
    )
    return f'<trafficSign id="{sid}">{elements}<position><point><x>49.0</x><y>-3.0</y></point></position></trafficSign>'


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "signs.xml"
    path.write_text(
        f'<commonRoad commonRoadVersion="2020a" timeStepSize="0.1">{body}{PROBLEM}</commonRoad>'
    )
    return path


def _map(tmp_path: Path, body: str) -> RoadMap:
    return read_commonroad(_write(tmp_path, body)).road_map


def test_a_stop_line_referencing_a_stop_sign_stops_its_lanelet(tmp_path: Path) -> None:
    body = (
        _lanelet("1", 0.0, _stop_line(42.0, 0.0, "20"))
        + _lanelet("2", 3.5)  # no reference: no stop
        + _sign("20", "206")
    )
    (sign,) = _map(tmp_path, body).stop_signs
    assert (sign.sign_id, sign.kind, sign.fallback) == ("20", "stop", False)
    assert [(s.lane_id, s.station_m) for s in sign.stops] == [("1", pytest.approx(42.0))]
    assert sign.lane_ids == ("1",) and sign.stops_traffic
    ((x0, _), (x1, _)) = sign.lines[0].coords
    assert x0 == x1 == 42.0


@pytest.mark.parametrize(
    ("elements", "kind"),
    [
        (("206",), "stop"),  # Germany and the countries using its ids
        (("R1-1",), "stop"),  # US MUTCD
        (("r2",), "stop"),  # Spain
        (("R1-1", "R1-3P"), "all_way_stop"),  # with the ALL WAY plaque
        (("205",), "yield"),
        (("R1-2",), "yield"),
        (("r1",), "yield"),
    ],
)
def test_kinds_by_sign_id(tmp_path: Path, elements: tuple[str, ...], kind: str) -> None:
    body = _lanelet("1", 0.0, _stop_line(42.0, 0.0, "20")) + _sign("20", *elements)
    (sign,) = _map(tmp_path, body).stop_signs
    assert sign.kind == kind and sign.stops_traffic == (kind != "yield")


def test_other_signs_are_no_rules(tmp_path: Path) -> None:
    body = _lanelet("1", 0.0, _stop_line(42.0, 0.0, "20")) + _sign("20", "301")
    assert _map(tmp_path, body).stop_signs == ()


def test_a_lanelets_own_reference_and_a_line_without_points(tmp_path: Path) -> None:
    # lanelet 1: its own trafficSignRef, stop line at x = 30; lanelet 2: a stop line without
    # points (the lane's end, 50 m); lanelet 3: no stop line at all (its end)
    body = (
        _lanelet("1", 0.0, _stop_line(30.0) + '<trafficSignRef ref="20"/>')
        + _lanelet("2", 3.5, _stop_line(None, 3.5, "20"))
        + _lanelet("3", 7.0, '<trafficSignRef ref="20"/>')
        + _sign("20", "206")
    )
    (sign,) = _map(tmp_path, body).stop_signs
    stops = {s.lane_id: s.station_m for s in sign.stops}
    assert stops == {"1": pytest.approx(30.0), "2": pytest.approx(50.0), "3": pytest.approx(50.0)}
    assert len(sign.lines) == 1  # only lanelet 1's line has points


def test_bad_references_and_lines_are_data_errors(tmp_path: Path) -> None:
    unknown = _lanelet("1", 0.0, _stop_line(42.0, 0.0, "77")) + _sign("20", "206")
    path = _write(tmp_path, unknown)
    with pytest.raises(DataError) as info:
        read_commonroad(path)
    message = str(info.value)
    assert message.startswith(str(path))  # the file, the lanelet, the field, the reference
    assert "lanelet 1: field stopLine/trafficSignRef" in message and "'77'" in message
    off = _lanelet("1", 0.0, _stop_line(70.0, 0.0, "20")) + _sign("20", "206")
    with pytest.raises(DataError, match=r"lanelet 1: field stopLine: lies off the lanelet"):
        read_commonroad(_write(tmp_path, off))


def test_the_shared_scenarios_have_no_stop_signs(shared_data: Path) -> None:
    for path in sorted((shared_data / "commonroad").glob("*.xml")):
        assert read_commonroad(path).road_map.stop_signs == (), path.name
