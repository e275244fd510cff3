"""``--lights camera`` on the synthetic red-light scenarios: their lights stand at the
far-right kerb of the stop line (``kerb_light_position``), the light camera sees such a light
from wherever the ego stops before the line, only the lights that govern the route's way are
looked at (``LaneStop.next_lanes``), and the cautious ego stops at red with no violation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main
from drivestack.core.transforms import SE3
from drivestack.ingest.maps.synthetic import (
    four_way_intersection,
    kerb_light_position,
    straight_road,
)
from drivestack.perception.camera.traffic_light_state import TrafficLightConfig, light_roi
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.build import build_scenario
from drivestack.sim.perceived_lights import default_light_camera, route_light_ids
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.sensors import CameraModel
from drivestack.sim.sensors.scene import light_priors
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.road_map import interpolate_polyline
from drivestack.structures.traffic_light import LaneStop, TrafficLight

SCENARIOS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
FRONT_M = VehicleParams().front_offset_m  # 4.15 m


def test_a_kerb_light_stands_right_of_the_rightmost_lane_level_with_the_line() -> None:
    road = straight_road(n_lanes=2)  # x = station - 100; road_0 from y = 0 to 3.5, road_1 left
    for lane in ("road_0", "road_1"):  # the same kerb from either lane: y = 0 - 1 m
        assert kerb_light_position(road, lane, 200.0) == pytest.approx((100.0, -1.0))
    assert kerb_light_position(road, "road_0", 200.0, 0.0) == pytest.approx((100.0, 0.0))
    # south_in runs north along x = 1.75 to the box edge y = -10 (its end, 150 m): its kerb
    # is x = 3.5, the light at x = 4.5
    junction = four_way_intersection()
    assert kerb_light_position(junction, "south_in", 150.0) == pytest.approx((4.5, -10.0))
    with pytest.raises(ValueError, match="kerb_offset_m"):
        kerb_light_position(road, "road_0", 200.0, -1.0)


def test_a_scenarios_own_light_is_placed_at_its_first_stops_kerb() -> None:
    built = build_scenario(load_scenarios(SCENARIOS / "red_light_stop.yaml")[0])
    (light,) = built.road_map.traffic_lights
    assert light.position_m == pytest.approx((100.0, -1.0))
    (prior,) = light_priors(built.road_map)
    assert prior.centre_m == pytest.approx((100.0, -1.0, 5.0))


def sees(camera: CameraModel, lane: str, room_m: float) -> bool:
    """Whether ``camera`` on the ego, its front ``room_m`` before the kerb light's line at
    station 200 m of ``lane`` (two-lane road), has the housing whole in its image."""
    road = straight_road(n_lanes=2)
    stops = (LaneStop("road_0", 200.0), LaneStop("road_1", 200.0))
    where = kerb_light_position(road, lane, 200.0)
    road = dataclasses.replace(road, traffic_lights=(TrafficLight("L", stops, None, where),))
    (prior,) = light_priors(road)
    xy, yaw = interpolate_polyline(road.lane(lane).centerline_m, [200.0 - room_m - FRONT_M])
    pose = SE3.from_xyz_yaw([xy[0, 0], xy[0, 1], 0.0], float(yaw[0]))
    return light_roi(prior, camera.calibration, pose, TrafficLightConfig()) is not None


@settings(max_examples=25, deadline=None)
@given(room_m=st.floats(0.0, 2.0), lane=st.sampled_from(["road_0", "road_1"]))
def test_the_light_camera_sees_the_kerb_light_wherever_the_ego_stops(
    room_m: float, lane: str
) -> None:
    # the planners stop the front idm.min_gap_m (2 m) before the line, or halfway to it when
    # they decide nearer: anywhere in [0, 2] m
    assert sees(default_light_camera(), lane, room_m)


def test_an_unpitched_camera_lost_the_light_near_the_line() -> None:
    level = CameraModel.looking_forward("traffic_light", 8000, 4320, 1500.0, (1.8, 0.0, 1.5))
    assert sees(level, "road_0", 2.0)
    assert not sees(level, "road_0", 0.5)  # the housing left the top of the image
    with pytest.raises(ValueError, match="pitch_up_rad"):
        CameraModel.looking_forward("c", 10, 10, 5.0, (0.0, 0.0, 0.0), np.pi / 2)


def test_only_the_lights_governing_the_routes_way_are_looked_at() -> None:
    junction = four_way_intersection()
    left_arrow = TrafficLight("left", (LaneStop("south_in", 150.0, ("south_to_west",)),))
    plain = TrafficLight("all", (LaneStop("south_in", 150.0),))
    cross = TrafficLight("cross", (LaneStop("west_in", 150.0),))
    road = dataclasses.replace(junction, traffic_lights=(left_arrow, plain, cross))
    for route, ids in (
        (["south_in", "south_to_north", "north_out"], {"all"}),
        (["south_in", "south_to_west", "west_out"], {"all", "left"}),
    ):
        assert route_light_ids(road, route, ReferencePath.from_route(road, route)) == ids


@pytest.mark.slow
def test_the_cautious_ego_stops_at_the_red_it_sees_with_no_violation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["sim", str(SCENARIOS / "red_light_stop.yaml"), "--planner", "pdm,idm"]
    assert main([*argv, "--lights", "camera", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "sim.json").read_text())["unknown_light"] == "yellow"
    for planner in ("pdm", "idm"):
        (folder,) = (out / planner).iterdir()
        record = json.loads((folder / "metrics.json").read_text())
        assert record["passed"] and record["red_light_violations"] == 0
        assert record["unknown_light"] == "yellow"
        assert record["light_perception"]["light_ticks"] > 100
        assert record["light_perception"]["confusion"]["red"].get("red", 0) > 0
        speed = np.load(folder / "history.npz")["ego_speed_mps"]
        assert speed.min() < 0.05  # it stood at the red
