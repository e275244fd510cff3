"""Lights the camera cannot read, inferred from those it reads
(``drivestack.perception.camera.traffic_light_inference``): hand-built four-way junctions
(``four_way_intersection``: 3.5 m lanes, box half-size 10 m, every inbound lane's stop at its
end, station 150 m; ``arms_junction``: bent roads and a T), controller-cycle mismatches, the
config switch, and ``red_light_cross_traffic`` closed loop."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError
from drivestack.ingest.maps.synthetic import four_way_intersection, offset_polyline
from drivestack.perception.camera.traffic_light_inference import (
    LightInference,
    conflicting_lights,
    heading_difference_deg,
    mixed_controllers,
    route_way_lanes,
    through_way,
    turn_deg,
)
from drivestack.perception.camera.traffic_light_state import (
    InferUnseenConfig,
    load_traffic_light_config,
)
from drivestack.planning.pdm import PDMParams
from drivestack.planning.traffic_lights import RouteLightStop
from drivestack.sim.build import build_scenario, with_traffic_lights
from drivestack.sim.evaluate import PLANNERS, run_scenario, score_percent
from drivestack.sim.perceived import observers
from drivestack.sim.perceived_lights import CameraLightPerception, with_light_perception
from drivestack.sim.scenario import TrafficLightConfig, load_scenarios
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.traffic_light import LaneStop, TrafficLight
from tests._map_helpers import moved_map

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
    # the crossing arms are 90 degrees off: out of [95, 180]; the opposing arm is in, but its
    # light governs its through way (north_to_south), which runs beside south_to_north: its
    # permissive left turn (north_to_east, crossing it) is not its movement
    assert inference(road_map, narrow).conflicts == {"S": frozenset()}
    # an opposing left arrow governs no through way: its turn crosses, red at the ego's green
    # (with the shipped upper bound, 135 degrees, it is left alone: no inference, not a wrong one)
    arrow = junction(light("S", "south_in"), light("N_left", "north_in", None, ("north_to_east",)))
    assert inference(arrow, narrow).conflicts == {"S": frozenset({"N_left"})}
    assert inference(arrow).conflicts == {"S": frozenset()}
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
    # N, an opposing left arrow (its turn crosses the ego's way), shares S's controller
    # (green): green by one rule, red by the other
    road_map = junction(
        light("S", "south_in", "ns"),
        light("N", "north_in", "ns", ("north_to_east",)),
        light("W", "west_in"),
        light("E", "east_in"),
    )
    wide = InferUnseenConfig(min_crossing_deg=45.0, max_crossing_deg=180.0)
    infer = inference(road_map, wide)
    assert "N" in infer.conflicts["S"]
    assert infer.infer({"S": "green"}, {"S": "green"}) == {"W": "red", "E": "red"}


def test_bad_states_are_named() -> None:
    with pytest.raises(ValueError, match="blue"):
        inference(four_lights()).infer({"S": "blue"}, {})


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
    assert conflicting_lights(moved_map(road_map, yaw, (dx, dy)), STRAIGHT_NORTH, EGO_STOP) == {
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


def arms_junction(arms_deg: dict[str, float], *lights: TrafficLight) -> RoadMap:
    """A junction of two-way one-lane arms (3.5 m lanes, 150 m long) pointing at ``arms_deg``
    (name -> degrees) from a box of half-size 10 m: ``<arm>_in`` (its stop at its end,
    station 150 m) joins every other arm's ``<arm>_out`` by ``<from>_to_<to>``, a polyline
    leaving along the inbound lane and arriving along the outbound one (1 m each), so its
    turn angle is the arms' (a bent road where the arms are not opposite)."""
    width = 3.5

    def lane(lane_id: str, centre: np.ndarray, **links: tuple[str, ...]) -> Lane:
        return Lane(
            lane_id,
            centre,
            offset_polyline(centre, width / 2),
            offset_polyline(centre, -width / 2),
            successors=links.get("successors", ()),
            predecessors=links.get("predecessors", ()),
        )

    ends: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # arm -> (inbound end, outbound start)
    units: dict[str, np.ndarray] = {}
    lanes: list[Lane] = []
    for name, deg in arms_deg.items():
        u = np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])
        left = np.array([-u[1], u[0]])
        units[name] = u
        far, near = 160.0 * u, 10.0 * u
        s = np.linspace(0.0, 1.0, 16)[:, None]
        inbound = far + s * (near - far) + left * width / 2
        outbound = near + s * (far - near) - left * width / 2
        ends[name] = (inbound[-1], outbound[0])
        others = [f"{name}_to_{o}" for o in arms_deg if o != name]
        into = [f"{o}_to_{name}" for o in arms_deg if o != name]
        lanes += [
            lane(f"{name}_in", inbound, successors=tuple(others)),
            lane(f"{name}_out", outbound, predecessors=tuple(into)),
        ]
    for a in arms_deg:
        for b in arms_deg:
            if a != b:
                p0, p3 = ends[a][0], ends[b][1]
                centre = np.array([p0, p0 - units[a], p3 - units[b], p3])
                lanes.append(
                    lane(f"{a}_to_{b}", centre, successors=(f"{b}_out",), predecessors=(f"{a}_in",))
                )
    return RoadMap(tuple(lanes), traffic_lights=lights)


FOUR_ARMS = {"east": 0.0, "west": 180.0, "south": -90.0}


@pytest.mark.parametrize("north_deg", [90.0, 120.0, 140.0, 160.0])
def test_an_opposing_approach_on_a_bent_road_is_never_inferred(north_deg: float) -> None:
    # the main road bends at the junction: north_in comes in up to 70 degrees off straight
    # (at 140 degrees, 130 off the ego's heading: inside the shipped 45..135 window), N and S
    # green together; the cross road (W, E) still crosses the ego's way
    road_map = arms_junction(
        {**FOUR_ARMS, "north": north_deg},
        *(
            light(i, f"{arm}_in")
            for i, arm in (("S", "south"), ("N", "north"), ("W", "west"), ("E", "east"))
        ),
    )
    assert through_way(road_map, "north_in", ARM_END_M) == "north_to_south"
    assert through_way(road_map, "west_in", ARM_END_M) == "west_to_east"
    infer = inference(road_map)
    assert infer.conflicts == {"S": frozenset({"W", "E"})}
    assert infer.infer({"S": "green"}, {"S": "green"}) == {"W": "red", "E": "red"}


def test_a_through_way_is_the_middle_of_three_or_a_slight_turn() -> None:
    bent = arms_junction({**FOUR_ARMS, "north": 160.0})
    # north_in heads -20 degrees: into east +20 (the least turn), south -70, west -160: the
    # middle of the three is its through way, not the slightest turn
    assert turn_deg(bent, bent.lane("north_in"), ARM_END_M, "north_to_east") == pytest.approx(20.0)
    assert through_way(bent, "north_in", ARM_END_M) == "north_to_south"
    # south_in: east -90, north +70, west +90 (the left two only 20 apart): no middle, and
    # no way within 35 degrees
    assert through_way(bent, "south_in", ARM_END_M) is None
    tee = arms_junction(FOUR_ARMS)  # a T: the side road (south) has only turns
    assert through_way(tee, "south_in", ARM_END_M) is None
    assert through_way(tee, "west_in", ARM_END_M) == "west_to_east"  # on, or right
    assert through_way(tee, "east_in", ARM_END_M) == "east_to_west"  # on, or left


def test_a_t_junction_side_road_conflicts_by_its_turns() -> None:
    lights = (light("W", "west_in"), light("E", "east_in"), light("S", "south_in"))
    tee = arms_junction(FOUR_ARMS, *lights)
    # the ego on the main road, straight on east: the side road's left turn (south_to_west)
    # crosses its way; the opposing main road's light governs its through way, beside it
    main = ("west_in", "west_to_east", "east_out")
    stop = (RouteLightStop("W", "west_in", 0.0),)
    assert conflicting_lights(tee, main, stop) == {"W": frozenset({"S"})}
    # the ego on the side road turning left: its light governs no through way, so its way is
    # the route's; both main-road through ways meet it (W's crosses, E's joins its lane out)
    side = ("south_in", "south_to_west", "west_out")
    stop = (RouteLightStop("S", "south_in", 0.0),)
    assert conflicting_lights(tee, side, stop) == {"S": frozenset({"W", "E"})}


def test_the_ego_turning_on_a_through_green_is_judged_by_the_through_way() -> None:
    # S governs south_in's through way: its green releases north_to_south's opposing through
    # too, so turning left (the route crosses N's through way) does not make N red
    road_map = four_lights()
    left = ("south_in", "south_to_west", "west_out")
    assert conflicting_lights(road_map, left, EGO_STOP) == {"S": frozenset({"W", "E"})}
    # a left arrow (governing only south_to_west) releases that turn alone: N's through
    # way crosses it (N is 180 degrees off: in with a window up to 180)
    arrow = junction(
        light("S", "south_in", None, ("south_to_west",)),
        light("N", "north_in"),
        light("W", "west_in"),
    )
    assert conflicting_lights(arrow, left, EGO_STOP, 45.0, 180.0) == {"S": frozenset({"N", "W"})}


def test_a_right_arrow_on_the_ego_approach_is_not_inferred() -> None:
    # it starts inside the ego's way (the shared stop lane) and may be green with it: the
    # heading window's lower bound keeps the ego's own approach out
    right = light("S_right", "south_in", None, ("south_to_east",))
    road_map = dataclasses.replace(
        four_way_intersection(),
        traffic_lights=(
            TrafficLight(
                "S", (LaneStop("south_in", ARM_END_M, ("south_to_north", "south_to_west")),)
            ),
            right,
        ),
    )
    assert conflicting_lights(road_map, STRAIGHT_NORTH, EGO_STOP) == {"S": frozenset()}
    zero = InferUnseenConfig(min_crossing_deg=0.0)
    assert inference(road_map, zero).conflicts == {"S": frozenset({"S_right"})}


def test_a_controller_whose_lights_differ_in_cycle_is_warned_of_and_not_used() -> None:
    # S and N share controller "ns" in the map; the scenario cycles S only, then N differently
    road_map = four_lights({"S": "ns", "N": "ns"})
    cfg = InferUnseenConfig(conflicting_green=False)
    assert mixed_controllers(road_map) == {}  # no cycles at all: the map alone, trusted
    assert inference(road_map, cfg).infer({"S": "green"}, {}) == {"N": "green"}
    green = [("green", 30.0), ("red", 30.0)]
    only_s = [TrafficLightConfig("S", green)]
    with pytest.warns(UserWarning) as caught:
        built = with_traffic_lights(road_map, only_s, "x.yaml")
    (warning,) = caught
    assert str(warning.message).startswith("x.yaml: traffic_lights.0: the map's controller 'ns'")
    assert "(cycle 1: S (traffic_lights.0); no cycle: N (the map))" in str(warning.message)
    assert mixed_controllers(built) == {"ns": ("S", "N")}
    assert inference(built, cfg).infer({"S": "green"}, {}) == {}
    both = [TrafficLightConfig("S", green), TrafficLightConfig("N", green, offset_s=30.0)]
    with pytest.warns(UserWarning, match=r"traffic_lights\.0, traffic_lights\.1: .*'ns'"):
        assert (
            inference(with_traffic_lights(road_map, both, "x.yaml"), cfg).infer({"S": "green"}, {})
            == {}
        )
    same = [TrafficLightConfig("S", green), TrafficLightConfig("N", green)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = with_traffic_lights(road_map, same, "x.yaml")
    assert inference(built, cfg).infer({"S": "green"}, {}) == {"N": "green"}
