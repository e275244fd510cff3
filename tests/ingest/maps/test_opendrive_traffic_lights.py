"""OpenDRIVE dynamic signals -> ``RoadMap.traffic_lights``: the lanes a signal stops (its
orientation, validity ranges, the lane section at its s, vehicle lanes only), the station where
the road's s is the signal's, signal references, DataErrors naming the road and field; the
esmini multi-intersection town's 68 dynamic signals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps import parse_opendrive, read_opendrive
from drivestack.structures.road_map import RoadMap


def _lane(lane_id: int, lane_type: str = "driving") -> str:
    return (
        f'<lane id="{lane_id}" type="{lane_type}">'
        '<width sOffset="0" a="3.5" b="0" c="0" d="0"/></lane>'
    )


SIDES = (
    f"<left>{_lane(1)}</left><center><lane id='0' type='none'/></center>"
    f"<right>{_lane(-1)}{_lane(-2)}{_lane(-3, 'sidewalk')}</right>"
)


def _signal(
    sid: str,
    s: float = 60.0,
    orientation: str = "+",
    validity: str = "",
    dynamic: str = "yes",
    t: float = -9.0,
) -> str:
    return (
        f'<signal id="{sid}" s="{s}" t="{t}" dynamic="{dynamic}" orientation="{orientation}" '
        f'type="1000001" subtype="-1" country="OpenDRIVE">{validity}</signal>'
    )


def _road(
    signals: str,
    road_id: str = "1",
    sections: tuple[float, ...] = (0.0,),
    y: float = 0.0,
) -> str:
    """A 100 m road along +x at ``y``: left lane 1, right lanes -1, -2 and sidewalk -3, all
    3.5 m wide, in lane sections starting at ``sections``."""
    lanes = "".join(f'<laneSection s="{s}">{SIDES}</laneSection>' for s in sections)
    return (
        f'<road id="{road_id}" length="100" junction="-1"><link/><planView>'
        f'<geometry s="0" x="0" y="{y}" hdg="0" length="100"><line/></geometry></planView>'
        f"<lanes>{lanes}</lanes><signals>{signals}</signals></road>"
    )


def _write(tmp_path: Path, *roads: str) -> Path:
    path = tmp_path / "signals.xodr"
    path.write_text(
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        + "".join(roads)
        + "</OpenDRIVE>"
    )
    return path


def _read(tmp_path: Path, *roads: str) -> RoadMap:
    return read_opendrive(_write(tmp_path, *roads))


def _stops(m: RoadMap, light_id: str) -> dict[str, float]:
    return {s.lane_id: s.station_m for s in m.traffic_light(light_id).stops}


def test_orientation_picks_the_direction(tmp_path: Path) -> None:
    signals = (
        _signal("10", orientation="+")
        + _signal("11", orientation="-")
        + _signal("12", orientation="none")
        + _signal("20", dynamic="no")  # a sign: not a light
    )
    m = _read(tmp_path, _road(signals))
    assert [light.light_id for light in m.traffic_lights] == ["10", "11", "12"]
    # lanes -1 and -2 drive +x from x = 0: x = 60 is 60 m along; lane 1 drives -x from
    # x = 100: 40 m along; the sidewalk lane -3 is never stopped
    assert _stops(m, "10") == {"1_0_-1": pytest.approx(60.0), "1_0_-2": pytest.approx(60.0)}
    assert _stops(m, "11") == {"1_0_1": pytest.approx(40.0)}
    assert _stops(m, "12") == {
        "1_0_-1": pytest.approx(60.0),
        "1_0_-2": pytest.approx(60.0),
        "1_0_1": pytest.approx(40.0),
    }
    light = m.traffic_light("10")
    assert light.cycle is None and light.state_at(1.0) == "unknown"
    assert light.position_m == pytest.approx((60.0, -9.0))  # (s, t) on the road


def test_validity_ranges(tmp_path: Path) -> None:
    signals = (
        _signal("10", validity='<validity fromLane="-1" toLane="-1"/>')
        + _signal("11", validity='<validity fromLane="-3" toLane="-2"/>')  # -3 is a sidewalk
        + _signal("12", validity='<validity fromLane="0" toLane="0"/>')  # the centre lane
        + _signal("13", orientation="none", validity='<validity fromLane="1" toLane="-1"/>')
    )
    m = _read(tmp_path, _road(signals))
    assert set(_stops(m, "10")) == {"1_0_-1"}
    assert set(_stops(m, "11")) == {"1_0_-2"}
    assert m.traffic_light("12").stops == ()
    assert set(_stops(m, "13")) == {"1_0_-1", "1_0_1"}


def test_signal_on_a_section_border_stops_the_lanes_driving_up_to_it(tmp_path: Path) -> None:
    # sections [0, 50) and [50, 100]: at s = 50 traffic along +x arrives in section 0 (its
    # lanes end there), traffic along -x in section 1 (lane 1 of section 1 runs 100 -> 50)
    signals = _signal("10", s=50.0, orientation="+") + _signal("11", s=50.0, orientation="-")
    m = _read(tmp_path, _road(signals, sections=(0.0, 50.0)))
    assert _stops(m, "10") == {"1_0_-1": pytest.approx(50.0), "1_0_-2": pytest.approx(50.0)}
    assert _stops(m, "11") == {"1_1_1": pytest.approx(50.0)}
    assert m.lane("1_1_1").length_m == pytest.approx(50.0)  # the stop is at the lane's end
    # at the road's ends: + at s = 100 stops its lanes' ends, - at s = 0 lane 1's end
    ends = _signal("12", s=100.0, orientation="+") + _signal("13", s=0.0, orientation="-")
    m = _read(tmp_path, _road(ends, sections=(0.0, 50.0)))
    assert _stops(m, "12") == {"1_1_-1": pytest.approx(50.0), "1_1_-2": pytest.approx(50.0)}
    assert _stops(m, "13") == {"1_0_1": pytest.approx(50.0)}


def test_signal_reference_adds_the_other_roads_lanes(tmp_path: Path) -> None:
    reference = '<signalReference id="10" s="20" t="0" orientation="-"/>'
    m = _read(tmp_path, _road(_signal("10")), _road(reference, road_id="2", y=50.0))
    assert _stops(m, "10") == {
        "1_0_-1": pytest.approx(60.0),
        "1_0_-2": pytest.approx(60.0),
        "2_0_1": pytest.approx(80.0),  # lane 1 of road 2 drives from x = 100 to x = 20
    }
    assert m.traffic_light("10").position_m == pytest.approx((60.0, -9.0))


def test_a_reference_to_a_sign_is_not_a_light(tmp_path: Path) -> None:
    reference = '<signalReference id="20" s="20" t="0" orientation="-"/>'
    m = _read(tmp_path, _road(_signal("20", dynamic="no")), _road(reference, "2", y=50.0))
    assert m.traffic_lights == ()


def test_the_network_keeps_its_signals(tmp_path: Path) -> None:
    network = parse_opendrive(_write(tmp_path, _road(_signal("10", s=30.0))))
    assert [(p.signal_id, p.road_id, p.s_m, p.orientation) for p in network.signals] == [
        ("10", "1", 30.0, "+")
    ]
    assert network.road_map(step_m=5.0).traffic_light("10").stops[0].station_m == pytest.approx(
        30.0
    )


@pytest.mark.parametrize(
    ("signals", "field", "reason"),
    [
        (
            _signal("10", orientation="up"),
            "signal@orientation",
            "orientation must be +, - or none, got 'up'",
        ),
        (_signal("10", s=100.5), "signal@s", "s 100.5 m is off the road (length 100.00 m)"),
        (_signal("10", s=float("nan")), "signal@s", "not a finite number"),
        (_signal("10") + _signal("10", s=20.0), "signal@id", "repeated dynamic signal id '10'"),
        (
            _signal("10", validity='<validity fromLane="a" toLane="1"/>'),
            "validity@fromLane",
            "not an integer lane id: 'a'",
        ),
        (
            '<signalReference id="99" s="20" orientation="-"/>',
            "signalReference@id",
            "refers to signal '99', which the file does not have",
        ),
    ],
)
def test_bad_signals_name_the_road_and_field(
    tmp_path: Path, signals: str, field: str, reason: str
) -> None:
    path = _write(tmp_path, _road(signals))
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "road 1" in message
    assert f"field {field}: {reason}" in message


# --- real data: esmini's multi_intersections.xodr ---------------------------------------


@pytest.mark.data
def test_multi_intersections_signals(shared_data: Path) -> None:
    path = shared_data / "opendrive_esmini" / "multi_intersections.xodr"
    m = read_opendrive(path)
    root = ET.parse(path).getroot()
    dynamic = [
        (road, sig)
        for road in root.findall("road")
        for sig in road.findall("signals/signal")
        if sig.get("dynamic") == "yes"
    ]
    assert len(dynamic) == 68 and len(m.traffic_lights) == 68
    assert {light.light_id for light in m.traffic_lights} == {s.get("id") for _, s in dynamic}
    for road, sig in dynamic:
        light = m.traffic_light(sig.get("id", ""))
        # every one stands at s = 0 of a one-section road, valid against the reference line:
        # it stops the road's left driving lanes (right-hand traffic drives them towards
        # s = 0) at their ends, or none when its validity is the centre lane 0 only
        assert float(sig.get("s", "")) == 0.0 and sig.get("orientation") == "-"
        validity = [(v.get("fromLane"), v.get("toLane")) for v in sig.findall("validity")]
        left_driving = {
            f"{road.get('id')}_0_{lane.get('id')}"
            for lane in road.findall("lanes/laneSection/left/lane")
            if lane.get("type") == "driving"
        }
        want = set() if validity == [("0", "0")] else left_driving
        assert {s.lane_id for s in light.stops} == want
        for stop in light.stops:
            assert stop.station_m == pytest.approx(m.lane(stop.lane_id).length_m)
        assert light.cycle is None
    counts = sorted(len(light.stops) for light in m.traffic_lights)
    assert counts.count(0) == 23 and counts.count(1) == 43 and counts.count(2) == 2
    # signal 290: road 196 starts at (290, 11) heading north; t = 5.3 m is to its west
    assert m.traffic_light("290").position_m == pytest.approx((284.7, 11.0), abs=1e-6)
    assert {s.lane_id for s in m.traffic_light("294").stops} == {"202_0_1", "202_0_2"}
    stopped = {s.lane_id for light in m.traffic_lights for s in light.stops}
    junction = {r.get("id"): r.get("junction") for r in root.findall("road")}
    for lane_id in stopped:  # every stopped lane runs into a junction's connecting road
        successors = m.lane(lane_id).successors
        assert successors and all(junction[s.split("_")[0]] != "-1" for s in successors)
    assert len(stopped) == 18
    assert np.isfinite([light.position_m for light in m.traffic_lights]).all()
