"""A number so large that a config's own check overflows is a ConfigError at its key."""

from __future__ import annotations

import dataclasses
import math

import pytest

from drivestack.config import load_yaml_config
from drivestack.core.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class _Horizon:
    horizon_s: float = 3.0
    dt_s: float = 0.1

    def __post_init__(self) -> None:
        math.ceil(self.horizon_s / self.dt_s)  # OverflowError for 1e308 / 0.1 = inf


def test_a_huge_value_overflowing_post_init_is_a_config_error(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("horizon_s: 1.0e+308\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: .*infinity"):
        load_yaml_config(_Horizon, path)


def test_an_integer_literal_past_floats_range_is_a_config_error(tmp_path) -> None:
    # -1 followed by 400 zeros: OverflowError from float() deep in the loader (a traceback)
    path = tmp_path / "c.yaml"
    path.write_text("horizon_s: -1" + "0" * 400 + "\n")
    with pytest.raises(ConfigError, match=r"field horizon_s: number too large for a float"):
        load_yaml_config(_Horizon, path)
