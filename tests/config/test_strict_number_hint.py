"""A number YAML 1.1 reads as text (``5e-2``: PyYAML needs a dot and a signed exponent) is
refused with a hint saying how to write it, in the one place config numbers are checked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from drivestack.config.strict import from_mapping
from drivestack.core.errors import ConfigError
from drivestack.sim.scenario import load_scenarios


@dataclass(frozen=True)
class _Cfg:
    gain: float


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("5e-2", "(YAML reads 5e-2 as text: write 5.0e-2 or 0.05)"),
        ("1.5e3", "(YAML reads 1.5e3 as text: write 1.5e+3 or 1500.0)"),
        ("'0.05'", "(quoted, it is text: write the number without quotes)"),
        ("'1.0e-2'", "(quoted, it is text: write the number without quotes)"),
    ],
)
def test_a_number_read_as_text_gets_a_hint(text: str, hint: str) -> None:
    data = yaml.safe_load(f"gain: {text}")
    assert isinstance(data["gain"], str)  # PyYAML's reading, the reason for the hint
    with pytest.raises(ConfigError) as err:
        from_mapping(_Cfg, data, path="c.yaml")
    assert str(err.value).endswith(f"expected a number, got {data['gain']!r} {hint}")
    if "write " in hint and "quotes" not in hint:  # the suggested spellings are numbers
        for spelled in hint.split("write ")[1].rstrip(")").split(" or "):
            assert from_mapping(_Cfg, yaml.safe_load(f"gain: {spelled}")).gain == float(
                data["gain"]
            )


@pytest.mark.parametrize("text", ["fast", "nan-ish", "'nan'"])
def test_other_text_gets_no_hint(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_mapping(_Cfg, yaml.safe_load(f"gain: {text}"), path="c.yaml")
    assert str(err.value).endswith("got " + repr(yaml.safe_load(f"gain: {text}")["gain"]))


def test_a_scenario_number_written_5e_2_names_the_file_key_and_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(
        "name: t\nmap: {kind: straight}\n"
        "ego: {lane: road_0, station_m: 100.0, speed_mps: 5e-2}\nduration_s: 5.0\n"
    )
    with pytest.raises(ConfigError) as err:
        load_scenarios(p)
    message = str(err.value)
    assert "s.yaml" in message and "field ego.speed_mps" in message
    assert message.endswith(
        "expected a number, got '5e-2' (YAML reads 5e-2 as text: write 5.0e-2 or 0.05)"
    )
