"""A scenario's ``traffic_lights`` block: new lights at lanes and stations, cycles for map
lights, and every mistake a ConfigError naming the file and the dotted key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.build import build_scenario, with_traffic_lights
from drivestack.sim.scenario import LightStopConfig, TrafficLightConfig, load_scenarios
from drivestack.structures.traffic_light import (
    LaneStop,
    SignalCycle,
    SignalPhase,
    TrafficLight,
)

HEAD = (
    "name: t\nmap: {kind: straight, params: {n_lanes: 2}}\n"
    "ego: {lane: road_0, station_m: 50.0, speed_kph: 50.0}\nduration_s: 2.0\n"
)
NEW = "  - {id: L1, stops: [{lane: road_0, station_m: 120.0}], phases: [[green, 10.0], [red, 5]]"


def scenario(tmp_path: Path, lights: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "traffic_lights:\n" + lights + "\n")
    return path


def test_a_new_light_is_added_at_its_lane_and_station(tmp_path: Path) -> None:
    (cfg,) = load_scenarios(scenario(tmp_path, NEW + ", offset_s: 2.5}"))
    built = build_scenario(cfg)
    light = built.road_map.traffic_light("L1")
    assert light.stops == (LaneStop("road_0", 120.0),)
    assert light.cycle == SignalCycle((SignalPhase("green", 10.0), SignalPhase("red", 5.0)), 2.5)
    assert built.world.road_map is built.road_map
    assert built.world.observe().traffic_lights == (("L1", "red"),)  # (0 - 2.5) mod 15 = 12.5


def test_a_map_light_gets_the_scenarios_cycle() -> None:
    road = dataclasses.replace(
        straight_road(),
        traffic_lights=(
            TrafficLight("43918", (LaneStop("road_0", 100.0),), position_m=(1.0, 2.0)),
            TrafficLight("other", (LaneStop("road_1", 100.0),)),
        ),
    )
    given = TrafficLightConfig("43918", [("green", 10.0), ("yellow", 3.0), ("red", 20.0)], 4.0)
    lit = with_traffic_lights(road, [given], "s.yaml")
    light = lit.traffic_light("43918")
    assert light.stops == (LaneStop("road_0", 100.0),) and light.position_m == (1.0, 2.0)
    assert light.cycle is not None and light.cycle.offset_s == 4.0
    assert [p.state for p in light.cycle.phases] == ["green", "yellow", "red"]
    assert lit.traffic_light("other").cycle is None  # the others as they were
    assert [x.light_id for x in lit.traffic_lights] == ["43918", "other"]
    with pytest.raises(ConfigError) as info:
        with_traffic_lights(road, [dataclasses.replace(given, id="4391")], "s.yaml")
    assert info.value.field == "traffic_lights.0.id"
    assert "no traffic light '4391' in the map (its lights: 43918, other)" in str(info.value)
    clash = dataclasses.replace(given, stops=[LightStopConfig("road_0", 5.0)])
    with pytest.raises(ConfigError, match="has a traffic light '43918' already") as info:
        with_traffic_lights(road, [clash], "s.yaml")
    assert info.value.field == "traffic_lights.0.id"


@pytest.mark.parametrize(
    "lights, field, words",
    [
        (NEW + ", colour: red}", "traffic_lights.0.colour", "unknown"),
        (
            "  - {id: L1, stops: [{lane: road_0, station_m: 1, lanes: x}], phases: [[red, 1]]}",
            "traffic_lights.0.stops.0.lanes",
            "unknown",
        ),
        (NEW.replace("[red, 5]", "[amber, 5]") + "}", "traffic_lights.0.phases.1.0", "amber"),
        (NEW.replace("[red, 5]", "[red, 0]") + "}", "traffic_lights.0.phases.1.1", "> 0 s"),
        (NEW.replace("[red, 5]", "[red, -2.0]") + "}", "traffic_lights.0.phases.1.1", "> 0 s"),
        (NEW.replace("[red, 5]", "[red, .inf]") + "}", "traffic_lights.0.phases.1.1", "> 0 s"),
        (NEW + ", offset_s: .nan}", "traffic_lights.0.offset_s", "finite"),
        # what SignalCycle refuses, refused on loading (it crashed the run before)
        (NEW.replace("[red, 5]", "[red, 1.0e-12]") + "}", "traffic_lights.0.phases.1.1", "1 ns"),
        (NEW.replace("[red, 5]", "[red, 1.0e+10]") + "}", "traffic_lights.0.phases.1.1", "under"),
        (NEW.replace("[red, 5]", "[red, 1.0e+300]") + "}", "traffic_lights.0.phases.1.1", "under"),
        (
            NEW.replace("[red, 5]", "[red, 3.0e+9], [yellow, 3.0e+9]") + "}",
            "traffic_lights.0.phases",
            "the period must be under 4.61e+09 s",
        ),
        (NEW + ", offset_s: 1.0e+300}", "traffic_lights.0.offset_s", "within +-4.61e+09 s"),
        (NEW + ", offset_s: -5.0e+9}", "traffic_lights.0.offset_s", "within +-4.61e+09 s"),
        (
            "  - {id: 43918, phases: [[red, 1]]}",
            "traffic_lights.0.id",
            "expected a string, got 43918 (quote it: light ids are strings)",
        ),
        (
            NEW.replace("[red, 5]", "[off, 5]") + "}",
            "traffic_lights.0.phases.1.0",
            "expected a string, got False (quote it: YAML reads off as false)",
        ),
        ("  - {id: L1, phases: []}", "traffic_lights.0.phases", "at least one"),
        ("  - {id: L1, stops: [], phases: [[red, 1]]}", "traffic_lights.0.stops", "at least"),
        (NEW.replace("120.0", "-1.0") + "}", "traffic_lights.0.stops.0.station_m", ">= 0"),
        (NEW + "}\n" + NEW + "}", "traffic_lights.1.id", "given twice"),
        (
            "  - {id: L1, stops: [{lane: road_0, station_m: 1}, {lane: road_0, station_m: 2}], "
            "phases: [[red, 1]]}",
            "traffic_lights.0.stops.1.lane",
            "one per lane",
        ),
    ],
)
def test_mistakes_are_named_on_loading(tmp_path: Path, lights: str, field: str, words: str) -> None:
    path = scenario(tmp_path, lights)
    with pytest.raises(ConfigError) as info:
        load_scenarios(path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "lights, field, words",
    [
        ('  - {id: "43918", phases: [[red, 1]]}', "traffic_lights.0.id", "it has none"),
        (NEW.replace("road_0", "road_7") + "}", "traffic_lights.0.stops.0.lane", "no lane"),
        (
            NEW.replace("120.0", "900.0") + "}",
            "traffic_lights.0.stops.0.station_m",
            "beyond the end of lane 'road_0'",
        ),
    ],
)
def test_mistakes_against_the_map_are_named_on_building(
    tmp_path: Path, lights: str, field: str, words: str
) -> None:
    path = scenario(tmp_path, lights)
    (cfg,) = load_scenarios(path)
    with pytest.raises(ConfigError) as info:
        build_scenario(cfg)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert words in str(info.value)


def test_a_light_can_be_swept(tmp_path: Path) -> None:
    body = NEW + "}\nsweep: {grid: {traffic_lights.0.offset_s: [0.0, 3.0]}}"
    cfgs = load_scenarios(scenario(tmp_path, body))
    assert [c.traffic_lights[0].offset_s for c in cfgs] == [0.0, 3.0]


def test_a_swept_duration_the_cycle_cannot_hold_is_refused_before_anything_runs(
    tmp_path: Path, capsys
) -> None:
    """The fleet sweep of the walkthrough crashed 2 of 2 runs; now it is one line, exit 2."""
    from drivestack.cli import main

    out = tmp_path / "fleet"
    source = Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "red_light_stop.yaml"
    sweep = "traffic_lights.0.phases.0.1=0.0000000001,5000000000.0"
    argv = ["fleet", str(source), "--planner", "idm", "--sweep", sweep, "--out", str(out)]
    assert main(argv) == 2
    assert not out.exists() or not any(out.rglob("metrics.json"))
    err = capsys.readouterr().err
    assert "must be at least 1 ns" in err and "nothing run" in err
