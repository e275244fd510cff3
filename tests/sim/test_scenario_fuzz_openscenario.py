"""Bad-input cases found by mutating the repository's OpenSCENARIO examples: each is a
ConfigError naming the .xosc file and the element (never an error blaming the road network,
nor a value OpenSCENARIO does not have silently read as another)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.scenario import load_scenarios

E6 = Path(__file__).parents[2] / "configs" / "scenarios" / "openscenario_e6_cut_in.xosc"


def _error(shared_data: Path, tmp_path: Path, old: str, new: str) -> str:
    """The message of loading the e6 cut-in example with ``old`` replaced by ``new`` (its map is
    found in the shared data folder)."""
    assert shared_data.is_dir()
    text = E6.read_text()
    assert old in text
    path = tmp_path / E6.name
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    return message


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ('roadId="7" laneId="-3"', "no road '7' in the file (e6mini.xodr: road 7, field road@id)"),
        ('roadId="0" laneId="-9"', "lane -9 at s 50.0 m (lane section 0) is not a lane of the map"),
    ],
)
def test_lane_position_off_the_map_names_the_xosc(
    shared_data: Path, tmp_path: Path, new: str, reason: str
) -> None:
    """Was a DataError naming only the .xodr file (which is fine) and no element of the .xosc."""
    message = _error(shared_data, tmp_path, 'roadId="0" laneId="-3"', new)
    assert "/LanePosition: " in message
    assert reason in message


def test_unknown_speed_dynamics_shape(shared_data: Path, tmp_path: Path) -> None:
    message = _error(shared_data, tmp_path, 'dynamicsShape="linear"', 'dynamicsShape="abc"')
    assert "@dynamicsShape: must be one of step, linear, cubic, sinusoidal, got 'abc'" in message


def test_unknown_speed_dynamics_dimension_of_a_step(shared_data: Path, tmp_path: Path) -> None:
    message = _error(
        shared_data,
        tmp_path,
        'dynamicsShape="step" value="0" dynamicsDimension="time"',
        'dynamicsShape="step" value="0" dynamicsDimension="nan"',
    )
    assert "@dynamicsDimension: must be one of rate, time, distance, got 'nan'" in message


def test_unknown_lane_change_dynamics_shape(shared_data: Path, tmp_path: Path) -> None:
    message = _error(shared_data, tmp_path, 'dynamicsShape="sinusoidal"', 'dynamicsShape=""')
    assert "@dynamicsShape: must be one of step, linear, cubic, sinusoidal, got ''" in message


def test_freespace_that_is_not_a_boolean(shared_data: Path, tmp_path: Path) -> None:
    message = _error(shared_data, tmp_path, 'freespace="false"', 'freespace="abc"')
    assert "@freespace: must be true or false, got 'abc'" in message
