"""Lights the camera cannot read, inferred from those it reads
(``drivestack.perception.camera.traffic_light_inference``): hand-built four-way junctions
(``four_way_intersection``: 3.5 m lanes, box half-size 10 m, every inbound lane's stop at its
end, station 150 m), the config switch, and ``red_light_cross_traffic`` closed loop."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError
from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.perception.camera.traffic_light_inference import (
    LightInference,
    conflicting_lights,
    heading_difference_deg,
    route_way_lanes,
)
from drivestack.perception.camera.traffic_light_state import (
    InferUnseenConfig,
    load_traffic_light_config,
)
from drivestack.planning.pdm import PDMParams
from drivestack.planning.traffic_lights import RouteLightStop
from drivestack.sim.build import build_scenario
from drivestack.sim.evaluate import PLANNERS, run_scenario, score_percent
from drivestack.sim.perceived import observers
from drivestack.sim.perceived_lights import CameraLightPerception, with_light_perception
from drivestack.sim.scenario import load_scenarios
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
ARM_END_M = 150.0  # each inbound lane's length: its stop line at its end
STRAIGHT_NORTH = ("south_in", "south_to_north", "north_out")
EGO_STOP = (RouteLightStop("S", "south_in", 140.0),)  # the path station is not used


def light(
    light_id: str,
    lane: str,
    controller: str | None = None,
    next_lanes: tuple[str, ...] | None = None,
) -> TrafficLight:
    """A light stopping ``lane`` at its end (station 150 m)."""
    stop = LaneStop(lane, ARM_END_M, next_lanes)
    return TrafficLight(light_id, (stop,), controller_id=controller)


def junction(*lights: TrafficLight) -> RoadMap:
    return dataclasses.replace(four_way_intersection(), traffic_lights=lights)


def four_lights(controllers: dict[str, str] | None = None) -> RoadMap:
    """One light per inbound arm: S (the ego's, south_in), N (opposing), W and E (crossing)."""
    c = controllers or {}
    return junction(
        *(
            light(i, f"{arm}_in", c.get(i))
            for i, arm in (("S", "south"), ("N", "north"), ("W", "west"), ("E", "east"))
        )
    )


def inference(road_map: RoadMap, config: InferUnseenConfig | None = None) -> LightInference:
    return LightInference(road_map, STRAIGHT_NORTH, EGO_STOP, config or InferUnseenConfig())


def test_the_route_way_is_the_junction_lane_after_the_stop() -> None:
    road_map = four_lights()
    assert route_way_lanes(road_map, STRAIGHT_NORTH, "south_in") == ("south_to_north",)
    assert route_way_lanes(road_map, STRAIGHT_NORTH, "north_out") == ()  # the route ends on it
    assert route_way_lanes(road_map, ("south_in",), "south_in") == ()


def test_crossing_approaches_are_red_at_a_read_green_the_opposing_one_is_not() -> None:
    infer = inference(four_lights())
    # west_in and east_in approach at 90 degrees; their straight ways (y = -1.75, y = 1.75)
    # cross south_to_north (x in [0, 3.5]); north_in (180 degrees) is opposing
    assert infer.conflicts == {"S": frozenset({"W", "E"})}
    reported = {"S": "green", "N": "unknown", "W": "unknown", "E": "unknown"}
    assert infer.infer({"S": "green"}, reported) == {"W": "red", "E": "red"}


@pytest.mark.parametrize("read", ["yellow", "red", "red_yellow", "unknown", "off"])
def test_only_a_green_read_infers_conflicting_reds(read: str) -> None:
    assert inference(four_lights()).infer({"S": read}, {"S": read}) == {}


def test_a_held_green_infers_nothing() -> None:
    # the camera could not read S this tick (fresh read unknown); its green is held over
    assert inference(four_lights()).infer({"S": "unknown"}, {"S": "green"}) == {}


def test_a_light_the_camera_gives_a_state_is_never_overridden() -> None:
    infer = inference(four_lights({"S": "c", "W": "c"}))
    # W read green (say, a mirror head facing the ego): neither rule touches it
    assert infer.infer({"S": "green", "W": "green"}, {"S": "green", "W": "green"}) == {"E": "red"}
    # held (not read this tick) counts too
    assert "W" not in infer.infer({"S": "green"}, {"S": "green", "W": "yellow"})


def test_a_turn_arrow_crosses_only_when_its_way_does() -> None:
    # west_in's right arrow (into west_to_south, its centreline x <= -1.75) stays left of
    # south_to_north (x >= 0); its left arrow (west_to_north) crosses it
    right = light("W_right", "west_in", next_lanes=("west_to_south",))
    west_left = light("W_left", "west_in", next_lanes=("west_to_north",))
    road_map = junction(light("S", "south_in"), right, west_left)
    assert conflicting_lights(road_map, STRAIGHT_NORTH, EGO_STOP) == {"S": frozenset({"W_left"})}


def test_the_crossing_angle_bounds_come_from_the_config() -> None:
    road_map = four_lights()
    narrow = InferUnseenConfig(min_crossing_deg=95.0, max_crossing_deg=180.0)
    # the crossing arms are 90 degrees off: out of [95, 180]; the opposing arm's straight way
    # (north_to_south) runs beside south_to_north, its left turn (north_to_east) crosses it
    assert inference(road_map, narrow).conflicts == {"S": frozenset({"N"})}
    off = InferUnseenConfig(conflicting_green=False)
    assert inference(road_map, off).infer({"S": "green"}, {"S": "green"}) == {}


def test_a_controller_mate_takes_the_read_and_disagreeing_reads_infer_nothing() -> None:
    road_map = four_lights({"S": "ns", "N": "ns", "W": "ew", "E": "ew"})
    cfg = InferUnseenConfig(conflicting_green=False)
    infer = inference(road_map, cfg)
    assert infer.infer({"S": "yellow"}, {"S": "yellow"}) == {"N": "yellow"}
    assert infer.infer({"W": "red"}, {}) == {"E": "red"}  # any read light, not only the route's
    # W and E read differently: nothing for their controller (S, N's is not touched)
    assert infer.infer({"W": "red", "E": "green", "S": "red"}, {"S": "red"}) == {"N": "red"}
    assert infer.infer({"S": "unknown"}, {}) == {}
    off = InferUnseenConfig(same_controller=False, conflicting_green=False)
    assert inference(road_map, off).infer({"S": "green"}, {"S": "green"}) == {}


def test_rules_that_disagree_infer_nothing() -> None:
    # N shares S's controller (green) and is made a crossing light by a wide angle bound:
    # green by one rule, red by the other
    road_map = four_lights({"S": "ns", "N": "ns"})
    wide = InferUnseenConfig(min_crossing_deg=45.0, max_crossing_deg=180.0)
    infer = inference(road_map, wide)
    assert "N" in infer.conflicts["S"]
    assert infer.infer({"S": "green"}, {"S": "green"}) == {"W": "red", "E": "red"}


def test_bad_states_are_named() -> None:
    with pytest.raises(ValueError, match="blue"):
        inference(four_lights()).infer({"S": "blue"}, {})


def _moved(road_map: RoadMap, yaw: float, dx: float, dy: float) -> RoadMap:
    c, s = math.cos(yaw), math.sin(yaw)
    rot = np.array([[c, -s], [s, c]])

    def move(xy: np.ndarray) -> np.ndarray:
        return xy @ rot.T + np.array([dx, dy])

    lanes = tuple(
        dataclasses.replace(
            lane,
            centerline_m=move(lane.centerline_m),
            left_boundary_m=move(lane.left_boundary_m),
            right_boundary_m=move(lane.right_boundary_m),
        )
        for lane in road_map.lanes
    )
    return dataclasses.replace(road_map, lanes=lanes, crosswalks=(), stop_lines=())


@settings(max_examples=15, deadline=None)
@given(
    yaw=st.floats(-math.pi, math.pi),
    dx=st.floats(-1e4, 1e4),
    dy=st.floats(-1e4, 1e4),
)
def test_the_conflict_relation_does_not_depend_on_where_the_junction_is(
    yaw: float, dx: float, dy: float
) -> None:
    road_map = four_lights()
    assert conflicting_lights(_moved(road_map, yaw, dx, dy), STRAIGHT_NORTH, EGO_STOP) == {
        "S": frozenset({"W", "E"})
    }


@given(a=st.floats(-10.0, 10.0), b=st.floats(-10.0, 10.0))
def test_heading_difference_is_symmetric_and_within_0_180(a: float, b: float) -> None:
    d = heading_difference_deg(a, b)
    assert 0.0 <= d <= 180.0
    assert d == pytest.approx(heading_difference_deg(b, a), abs=1e-9)
    assert heading_difference_deg(a, a + 2 * math.pi) == pytest.approx(0.0, abs=1e-9)


def test_the_config_switch_loads_strictly(tmp_path: Path) -> None:
    shipped = load_traffic_light_config(
        Path(__file__).resolve().parents[2] / "configs" / "perception" / "traffic_lights.yaml"
    )
    assert shipped.infer_unseen == InferUnseenConfig()
    bad = tmp_path / "lights.yaml"
    bad.write_text("infer_unseen: {same_controler: true}\n")
    with pytest.raises(ConfigError, match="same_controler"):
        load_traffic_light_config(bad)
    bad.write_text("infer_unseen: {min_crossing_deg: 100.0, max_crossing_deg: 90.0}\n")
    with pytest.raises(ConfigError, match="max_crossing_deg"):
        load_traffic_light_config(bad)


def test_red_light_cross_traffic_closed_loop_with_camera_lights() -> None:
    cfg = load_scenarios(SCENARIOS / "red_light_cross_traffic.yaml")[0]
    built = with_light_perception(build_scenario(cfg))
    (observer,) = observers(built.world)
    assert isinstance(observer, CameraLightPerception)
    # the planner as `drivestack sim --lights camera` makes it: unknown lights as yellow
    planner = PLANNERS["pdm"](
        built.road_map, built.route_lanes, built.world.vehicle, PDMParams(unknown_light="yellow")
    )
    result = run_scenario(built, planner)
    record = result.as_dict()
    assert result.passed, result.failures
    assert record["red_light_violations"] == 0
    # before inference the cross light EW stayed unknown and PDM braked for the cross car
    # (score 74.0, 94 m covered); with EW inferred red its forecast stops at its line
    assert score_percent(result.nuplan) > 95.0
    inferred = observer.metrics.result()["inferred"]
    assert inferred["light_ticks"] > 20
    assert inferred["correct"] == inferred["light_ticks"]
