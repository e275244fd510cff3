"""A value a dataclass's ``__post_init__`` refuses is reported at the field its message names
(``PDMParams.horizon_s must be ...`` -> ``field horizon_s``), dotted under nesting."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from drivestack.config import from_mapping
from drivestack.core.errors import ConfigError
from drivestack.planning.control.tracker import TrackerParams
from drivestack.planning.pdm import PDMParams
from drivestack.sim.vehicle import VehicleParams


def _field_of(cls: type, mapping: dict[str, Any], prefix: str = "") -> str:
    with pytest.raises(ConfigError) as info:
        from_mapping(cls, mapping, path="cfg.yaml", prefix=prefix)
    message = str(info.value)
    assert message.startswith("cfg.yaml: field "), message
    return message.removeprefix("cfg.yaml: field ").split(":", 1)[0]


@pytest.mark.parametrize(
    ("mapping", "key"),
    [
        ({"horizon_s": 8.05}, "horizon_s"),  # not a whole number of dt_s steps
        ({"speed_fractions": [0.5, -1.0]}, "speed_fractions"),
        ({"speed_fractions": [0.5, float("nan")]}, "speed_fractions.1"),  # element index
        ({"unknown_light": "blink"}, "unknown_light"),
        ({"prediction": "oracle"}, "prediction"),
        ({"score_horizon_s": 9.0}, "score_horizon_s"),
        ({"light_stop_decel_mps2": 0.1}, "light_stop_decel_mps2"),  # names idm.* after it
        ({"idm": {"min_gap_m": -1.0}}, "idm.min_gap_m"),  # nested ACCParams (IDMParams base)
    ],
)
def test_pdm_params_errors_name_the_field(mapping: dict[str, Any], key: str) -> None:
    assert _field_of(PDMParams, mapping) == key


def test_vehicle_and_tracker_params_under_a_prefix() -> None:
    assert _field_of(VehicleParams, {"wheelbase_m": -1.0}, "ego") == "ego.wheelbase_m"
    assert _field_of(TrackerParams, {"min_lookahead_m": -1.0}, "tracker") == (
        "tracker.min_lookahead_m"
    )


@dataclass(frozen=True)
class Pair:
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"Pair.lowish must be <= high, got {self.low}")  # no such field
        if self.low < -100.0:
            raise ValueError("Pair must have low >= -100")  # no field named


@dataclass(frozen=True)
class Other:
    x: float = 0.0

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("Pair.low must be >= 0 (another class's message)")


def test_messages_naming_no_field_of_the_class_stay_at_the_dataclass() -> None:
    assert _field_of(Pair, {"low": 2.0}) == "<top level>"
    assert _field_of(Pair, {"low": -200.0}, "limits") == "limits"
    assert _field_of(Other, {"x": -1.0}) == "<top level>"
