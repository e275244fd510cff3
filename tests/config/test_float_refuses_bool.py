"""A float config field refuses a YAML boolean (``bool`` is an ``int`` subclass in Python)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from drivestack.config import from_mapping, load_yaml_config
from drivestack.core.errors import ConfigError


@dataclass(frozen=True)
class _Gains:
    gain: float = 1.0


@pytest.mark.parametrize("flag", [True, False])
def test_float_field_refuses_a_boolean_naming_the_key(flag: bool) -> None:
    # True == 1 and False == 0 as ints, but a boolean is not a number for a float field
    with pytest.raises(ConfigError, match=r"field gain: expected a number, got (True|False)"):
        from_mapping(_Gains, {"gain": flag})


def test_float_field_refuses_a_yaml_true(tmp_path: Path) -> None:
    path = tmp_path / "gains.yaml"
    path.write_text("gain: true\n")
    with pytest.raises(ConfigError, match=r"gain"):
        load_yaml_config(_Gains, path)
    # an integer is still a number: 1 -> 1.0
    assert from_mapping(_Gains, {"gain": 1}).gain == 1.0
