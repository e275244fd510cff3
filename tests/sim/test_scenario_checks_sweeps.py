"""A scenario file's ``sweep``: bad ``random`` values are a ConfigError naming the file and the
``sweep.random`` key (they were a numpy traceback, or silently cut), with the range rule of
``drivestack fleet --sweep KEY=LO:HI``; swept cases are named uniquely."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError
from drivestack.exec.sweep import parse_sweep_param
from drivestack.sim.scenario import (
    MAX_SWEPT_SCENARIOS,
    load_scenarios,
    scenarios_from_mapping,
    short_keys,
)
from tests.sim.scenario_errors import scenario_error

#: The reviewer's lead_brake scenario (docs/scenarios.md's sweep of it), without its sweep.
LEAD_BRAKE = """\
name: lead_brake
map: {kind: straight, params: {n_lanes: 2, speed_limit_mps: 25.0}}
ego: {lane: road_0, station_m: 50.0, speed_kph: 50.0}
duration_s: 10.0
agents:
  - {id: lead, type: car, behavior: scripted, lanes: [road_0], station_m: 80.0, speed_kph: 50.0,
     speed_events: [{time_s: 2.0, accel_mps2: -8.0, target_speed_mps: 0.0}]}
  - {id: side, type: car, behavior: scripted, lanes: [road_1], station_m: 80.0, speed_kph: 50.0}
"""


def _random(tmp_path: Path, random: str) -> str:
    return scenario_error(tmp_path, f"{LEAD_BRAKE}sweep:\n  random: {random}\n", build=False)


@pytest.mark.parametrize(
    ("random", "field", "words"),
    [
        # each was a traceback: numpy's "high - low < 0", int()'s ValueError, float()'s, and
        # an OverflowError for NaN
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [80, 20]}}",
         "sweep.random.ranges.ego.speed_kph", "must have lo <= hi"),
        ("{count: 3, seed: x, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.seed", "whole number >= 0"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [a, b]}}",
         "sweep.random.ranges.ego.speed_kph", "two numbers, got ['a', 'b']"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [.nan, 80]}}",
         "sweep.random.ranges.ego.speed_kph", "finite numbers, not NaN or infinite"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [20, .inf]}}",
         "sweep.random.ranges.ego.speed_kph", "finite numbers, not NaN or infinite"),
        ("{count: 3, ranges: {ego.offset_m: [-1.0e+308, 1.0e+308]}}",
         "sweep.random.ranges.ego.offset_m", "hi - lo overflows"),
        # "error: --filter '' matches none of the 0 scenarios", naming neither file nor key
        ("{count: 0, seed: 2, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.count", "whole number of draws >= 1, got 0"),
        ("{count: -2, seed: 2, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.count", "got -2"),
        ("{count: 2.0, seed: 2, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.count", "got 2.0"),
        # silently cut to seed 1 / read as seed 1
        ("{count: 3, seed: 1.5, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.seed", "got 1.5"),
        ("{count: 3, seed: true, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.seed", "got True"),
        ("{count: 3, seed: -1, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.seed", "got -1"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [20, 50, 80]}}",
         "sweep.random.ranges.ego.speed_kph", "range must be [lo, hi]"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [true, 80]}}",
         "sweep.random.ranges.ego.speed_kph", "range must be [lo, hi]"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [20, 1e2]}}",
         "sweep.random.ranges.ego.speed_kph", "YAML reads 1e2 as text: write 1.0e+2"),
        ("{count: 3, seed: 2, ranges: [ego.speed_kph]}", "sweep.random.ranges", "at least one"),
        ("{count: 3, seed: 2}", "sweep.random.ranges", "at least one"),
        ("{count: 3, seed: 2, ranges: {ego.speed_kph: [20, 20]}}",
         "sweep.random.ranges", "draws 0 and 1 of the 3 (count) are the same"),
        ("{count: 20000, ranges: {ego.speed_kph: [20, 80]}}",
         "sweep.random.count", f"more than the {MAX_SWEPT_SCENARIOS:,}"),
    ],
)  # fmt: skip
def test_a_bad_random_sweep_names_the_file_and_key(tmp_path, random, field, words) -> None:
    message = _random(tmp_path, random)
    assert f": field {field}: " in message and words in message


def test_equal_bounds_draw_that_value_once(tmp_path) -> None:
    (path := tmp_path / "s.yaml").write_text(
        f"{LEAD_BRAKE}sweep:\n  random: {{count: 1, ranges: {{ego.speed_kph: [40, 40]}}}}\n"
    )
    (cfg,) = load_scenarios(path)
    assert (cfg.name, cfg.ego.speed_kph) == ("lead_brake[speed_kph=40.0]", 40.0)
    # 0.0 <= -0.0, but numpy's uniform refused [0.0, -0.0] ("high - low < 0"), file and fleet
    path.write_text(
        f"{LEAD_BRAKE}sweep: {{random: {{count: 1, ranges: {{ego.offset_m: [0.0, -0.0]}}}}}}\n"
    )
    (cfg,) = load_scenarios(path)
    assert cfg.ego.offset_m == 0.0


def test_draws_are_seeded_and_within_their_ranges(tmp_path) -> None:
    text = f"{LEAD_BRAKE}sweep:\n  cases: [{{agents.0.station_m: 90.0}}, {{agents.0.station_m: 100.0}}]\n"
    text += "  random: {count: 3, seed: 2, ranges: {ego.speed_kph: [20, 80], ego.offset_m: [-0.5, 0.5]}}\n"
    (path := tmp_path / "s.yaml").write_text(text)
    first, again = load_scenarios(path), load_scenarios(path)
    assert [c.ego for c in first] == [c.ego for c in again] and len(first) == 6
    assert all(20.0 <= c.ego.speed_kph <= 80.0 for c in first)  # type: ignore[operator]
    assert all(-0.5 <= c.ego.offset_m <= 0.5 for c in first)
    assert len({(c.ego.speed_kph, c.ego.offset_m) for c in first}) == 6  # fresh draws per case


@settings(max_examples=60, deadline=None)
@given(
    low=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308])),
    high=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1e308, -1e308])
    ),
)
def test_the_file_and_the_fleet_option_refuse_the_same_ranges(low: float, high: float) -> None:
    # one rule (uniform_range_problem): a range the file refuses, `--sweep KEY=LO:HI` refuses
    data = {
        "name": "t",
        "map": {"kind": "straight"},
        "ego": {"lane": "road_0", "station_m": 100.0},
        "duration_s": 1.0,
        "sweep": {"random": {"count": 1, "ranges": {"ego.offset_m": [low, high]}}},
    }
    try:
        scenarios_from_mapping(data)
        file_refuses = False
    except ConfigError as exc:
        file_refuses = exc.field == "sweep.random.ranges.ego.offset_m" and "range" in exc.reason
        if not file_refuses:  # a drawn offset off the lane: refused later, as the fleet's draws
            assert exc.field == "sweep.random.ranges.ego.offset_m", exc
            return
    try:
        parse_sweep_param(f"ego.offset_m={low!r}:{high!r}")
        option_refuses = False
    except ConfigError:
        option_refuses = True
    assert file_refuses == option_refuses
    sane = math.isfinite(low) and math.isfinite(high) and low <= high
    assert file_refuses == (not sane or not math.isfinite(high - low))


# --- names of swept cases ----------------------------------------------------------------


def test_a_grid_over_two_speed_kph_keys_names_them_in_full(tmp_path) -> None:
    text = LEAD_BRAKE + "sweep:\n  grid: {ego.speed_kph: [30, 90], agents.0.speed_kph: [30]}\n"
    (path := tmp_path / "s.yaml").write_text(text)
    names = [c.name for c in load_scenarios(path)]
    # was lead_brake[speed_kph=30,speed_kph=30]: which speed is which?
    assert names == [
        "lead_brake[ego.speed_kph=30,agents.0.speed_kph=30]",
        "lead_brake[ego.speed_kph=90,agents.0.speed_kph=30]",
    ]


def test_cases_that_differ_by_agent_index_get_their_own_names(tmp_path) -> None:
    # both were two_cars[speed_kph=10], refused as a folder clash at field `name`
    text = LEAD_BRAKE + "sweep:\n  cases: [{agents.0.speed_kph: 10}, {agents.1.speed_kph: 10}]\n"
    (path := tmp_path / "s.yaml").write_text(text)
    assert [c.name for c in load_scenarios(path)] == [
        "lead_brake[agents.0.speed_kph=10]",
        "lead_brake[agents.1.speed_kph=10]",
    ]


def test_two_variants_of_one_name_are_refused_where_the_second_is_named(tmp_path) -> None:
    # was refused at field `name` (the scenario's), while the clash was the second case's name
    text = (
        LEAD_BRAKE
        + "sweep:\n  cases: [{ego.speed_kph: 40, name: x}, {ego.speed_kph: 50, name: x}]\n"
    )
    message = scenario_error(tmp_path, text, build=False)
    assert message.endswith(
        "field sweep.cases.1.name: two variants are named 'lead_brake[x]' (the first from "
        "sweep.cases.0.name): each needs its own name, as its result folder"
    )
    repeated = scenario_error(tmp_path, LEAD_BRAKE + "sweep:\n  grid: {ego.speed_kph: [40, 40]}\n")
    assert "field sweep: two variants are named 'lead_brake[speed_kph=40]'" in repeated


def test_unique_short_names_stay_as_they_were(tmp_path) -> None:
    text = LEAD_BRAKE + "sweep:\n  grid: {ego.speed_kph: [30], agents.0.station_m: [90.0]}\n"
    (path := tmp_path / "s.yaml").write_text(text)
    (cfg,) = load_scenarios(path)
    assert cfg.name == "lead_brake[speed_kph=30,station_m=90.0]"


def test_short_keys_tell_keys_apart_from_a_field_on() -> None:
    keys = [
        "duration_s",
        "agents.0.lateral_shifts.0.duration_s",
        "agents.0.speed_events.0.accel_mps2",
        "agents.0.speed_events.1.accel_mps2",
        "ego.station_m",
    ]
    assert short_keys(keys) == {
        "duration_s": "duration_s",  # a tail of the other: the whole key
        "agents.0.lateral_shifts.0.duration_s": "lateral_shifts.0.duration_s",
        "agents.0.speed_events.0.accel_mps2": "speed_events.0.accel_mps2",
        "agents.0.speed_events.1.accel_mps2": "speed_events.1.accel_mps2",
        "ego.station_m": "station_m",
    }
    assert len(set(short_keys(keys).values())) == len(keys)


def test_a_sweep_key_that_is_not_text_is_refused(tmp_path) -> None:
    message = scenario_error(tmp_path, LEAD_BRAKE + "sweep:\n  cases: [{1: 2}]\n", build=False)
    assert ": field sweep.cases: " in message  # was AttributeError: 'int' has no 'split'
