"""Bad-input cases found by mutating the shared CommonRoad scenarios: each is a DataError
naming the file, the record and the field (never a ValueError from RoadMap, an agent with a
clashing id, or a record silently dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.maps.commonroad import read_commonroad

PEACH = "commonroad/USA_Peach-4_8_T-1.xml"  # 2020a, traffic lights and speed signs
A9 = "commonroad/format_2018b/DEU_A9-3_1_T-1.xml"  # 2018b: <obstacle> with <role>, <speedLimit>


def _mutated(shared_data: Path, tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (shared_data / name).read_text()
    assert old in text
    out = tmp_path / Path(name).name
    out.write_text(text.replace(old, new, 1))
    return out


def _error(path: Path) -> str:
    with pytest.raises(DataError) as info:
        read_commonroad(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_repeated_lanelet_id(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(shared_data, tmp_path, PEACH, '<lanelet id="43590">', '<lanelet id="43349">')
    assert "lanelet 43349: field id: repeated id" in _error(path)


def test_repeated_obstacle_id(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(
        shared_data, tmp_path, PEACH, '<dynamicObstacle id="512">', '<dynamicObstacle id="507">'
    )
    assert "obstacle 507: field id: repeated id" in _error(path)


def test_obstacle_without_id(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(shared_data, tmp_path, A9, '<obstacle id="3536">', "<obstacle>")
    assert "obstacle: field id: missing" in _error(path)


@pytest.mark.parametrize(
    ("role", "reason"), [("", "missing"), ("<role>parked</role>", "must be dynamic or static")]
)
def test_2018b_obstacle_role_must_be_dynamic_or_static(
    shared_data: Path, tmp_path: Path, role: str, reason: str
) -> None:
    """An <obstacle> that is neither dynamic nor static was left out of the scenario."""
    text = (shared_data / A9).read_text()
    head, tail = text.split('<obstacle id="3536">', 1)
    tail = tail.replace("<role>dynamic</role>", role, 1)
    path = tmp_path / "DEU_A9-3_1_T-1.xml"
    path.write_text(f'{head}<obstacle id="3536">{tail}')
    assert f"obstacle 3536: field role: {reason}" in _error(path)


def test_traffic_sign_ref_to_unknown_sign(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(
        shared_data, tmp_path, PEACH, '<trafficSignRef ref="43839"/>', '<trafficSignRef ref="9"/>'
    )
    assert "field trafficSignRef: refers to unknown traffic sign '9'" in _error(path)


def test_repeated_traffic_sign_id(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(
        shared_data, tmp_path, PEACH, '<trafficSign id="43840">', '<trafficSign id="43839">'
    )
    assert "trafficSign 43839: field id: repeated id" in _error(path)


def test_unknown_driving_direction(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(shared_data, tmp_path, A9, 'drivingDir="same"', 'drivingDir="nan"')
    message = _error(path)
    assert (
        "lanelet 436: field adjacentLeft@drivingDir: must be same or opposite, got 'nan'" in message
    )


def test_empty_speed_limit(shared_data: Path, tmp_path: Path) -> None:
    path = _mutated(shared_data, tmp_path, A9, "<speedLimit>27.78</speedLimit>", "<speedLimit/>")
    assert "field speedLimit: missing" in _error(path)
