"""The camera observer's hold (``HeldLightStates``, config ``hold_s``): a reading is kept for
up to ``hold_s`` while the light becomes unreadable, a fresh one replaces it at once."""

from __future__ import annotations

import pytest

from drivestack.config.strict import ConfigValueError
from drivestack.perception.camera.traffic_light_state import (
    DEFAULT_CONFIG_PATH,
    HeldLightStates,
    TrafficLightConfig,
    load_traffic_light_config,
)

S = 1_000_000_000  # ns per second


def run(held: HeldLightStates, readings: list[tuple[float, str]], light: str = "L") -> list[str]:
    return [held.update(light, state, round(t * S)) for t, state in readings]


def test_a_reading_is_held_up_to_hold_s_then_unknown() -> None:
    held = HeldLightStates(2.0)
    readings = [(0.0, "green"), (0.1, "unknown"), (2.0, "unknown"), (2.1, "unknown")]
    assert run(held, readings) == ["green", "green", "green", "unknown"]


def test_a_fresh_reading_replaces_the_held_one_at_once() -> None:
    # green, unreadable 1 s, then read yellow, red: each shown from its first frame; the hold
    # restarts from the last reading (red at 3.0 s is held until 5.0 s)
    held = HeldLightStates(2.0)
    readings = [
        (0.0, "green"),
        (1.0, "unknown"),
        (1.1, "yellow"),
        (1.2, "unknown"),
        (3.0, "red"),
        (4.9, "unknown"),
        (5.0, "unknown"),
        (5.1, "unknown"),
    ]
    assert run(held, readings) == [
        "green", "green", "yellow", "yellow", "red", "red", "red", "unknown"
    ]  # fmt: skip


def test_hold_zero_passes_readings_on_and_lights_are_held_apart() -> None:
    held = HeldLightStates(0.0)
    assert run(held, [(0.0, "red"), (0.0, "unknown"), (0.1, "unknown")]) == [
        "red", "red", "unknown"
    ]  # fmt: skip
    held = HeldLightStates(1.0)
    assert held.update("A", "red", 0) == "red"
    assert held.update("B", "unknown", S // 2) == "unknown"  # B was never read
    assert held.update("A", "unknown", S // 2) == "red"
    held.forget("A")
    assert held.update("A", "unknown", S // 2) == "unknown"
    held.update("A", "green", S)
    held.reset()
    assert held.update("A", "unknown", S) == "unknown"


def test_off_is_a_reading_and_time_must_not_run_back() -> None:
    held = HeldLightStates(2.0)
    assert run(held, [(0.0, "off"), (1.0, "unknown"), (1.5, "red")]) == ["off", "off", "red"]
    with pytest.raises(ValueError, match="light 'L' read at 1000000000 ns, before its last"):
        held.update("L", "red", S)
    with pytest.raises(ValueError, match="hold_s"):
        HeldLightStates(-1.0)


def test_hold_s_is_a_config_key() -> None:
    assert load_traffic_light_config(DEFAULT_CONFIG_PATH).hold_s == 2.0
    assert TrafficLightConfig().hold_s == 0.0
    with pytest.raises(ConfigValueError, match="hold_s"):
        TrafficLightConfig(hold_s=-0.5)
