"""OpenDRIVE ``<controller>`` s -> each light's ``controller_id`` (the signals that switch
together); DataErrors naming the file, the controller and the field for a ``<control>`` of a
signal the file does not have, of a sign, of a signal another controller has, a repeated
controller id; esmini's multi-intersection town's 23 controllers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps import read_opendrive
from tests.ingest.maps.test_opendrive_traffic_lights import _road, _signal

SIGNALS = _signal("10") + _signal("11", s=20.0, orientation="-") + _signal("12", s=80.0)
SIGN = _signal("13", s=50.0, dynamic="no")


def _controller(cid: str, *signal_ids: str) -> str:
    controls = "".join(f'<control signalId="{s}" type="0"/>' for s in signal_ids)
    return f'<controller id="{cid}" name="ctrl{cid}" sequence="1">{controls}</controller>'


def _write(tmp_path: Path, controllers: str, signals: str = SIGNALS + SIGN) -> Path:
    path = tmp_path / "controllers.xodr"
    path.write_text(
        '<?xml version="1.0"?><OpenDRIVE><header revMajor="1" revMinor="6"/>'
        f"{_road(signals)}{controllers}</OpenDRIVE>"
    )
    return path


def test_each_light_knows_its_controller(tmp_path: Path) -> None:
    m = read_opendrive(_write(tmp_path, _controller("1", "10", "12") + _controller("2", "11")))
    assert {light.light_id: light.controller_id for light in m.traffic_lights} == {
        "10": "1",
        "11": "2",
        "12": "1",
    }


def test_no_controller_is_none(tmp_path: Path) -> None:
    m = read_opendrive(_write(tmp_path, _controller("1", "10")))
    assert m.traffic_light("11").controller_id is None
    assert m.traffic_light("10").controller_id == "1"


@pytest.mark.parametrize(
    ("controllers", "record", "field", "reason"),
    [
        (
            _controller("7", "10", "99"),
            "controller 7",
            "control@signalId",
            "controls signal '99', which the file does not have",
        ),
        (
            _controller("7", "13"),
            "controller 7",
            "control@signalId",
            "signal '13' is a static signal (a sign)",
        ),
        (
            _controller("1", "10") + _controller("2", "11", "10"),
            "controller 2",
            "control@signalId",
            "signal '10' is controlled by controller '1' already",
        ),
        (
            _controller("1", "10") + _controller("1", "11"),
            "controller 1",
            "controller@id",
            "repeated controller id",
        ),
        (
            '<controller name="x"><control signalId="10"/></controller>',
            "controller",
            "controller@id",
            "missing",
        ),
    ],
)
def test_bad_controllers_name_the_file_controller_and_field(
    tmp_path: Path, controllers: str, record: str, field: str, reason: str
) -> None:
    path = _write(tmp_path, controllers)
    with pytest.raises(DataError) as info:
        read_opendrive(path)
    assert (info.value.path, info.value.record, info.value.field) == (str(path), record, field)
    assert reason in str(info.value)


@pytest.mark.data
def test_multi_intersections_controllers(shared_data: Path) -> None:
    path = shared_data / "opendrive_esmini" / "multi_intersections.xodr"
    m = read_opendrive(path)
    root = ET.parse(path).getroot()
    want = {
        control.get("signalId"): controller.get("id")
        for controller in root.findall("controller")
        for control in controller.findall("control")
    }
    assert len(root.findall("controller")) == 23 and len(want) == 68
    assert {light.light_id: light.controller_id for light in m.traffic_lights} == want
    # ctrl001 switches 294, 295, 287 and 288 together
    assert sorted(i for i, c in want.items() if c == "1") == ["287", "288", "294", "295"]
