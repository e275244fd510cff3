"""A stopped ego stays stopped while it should: IDM accelerates from rest whenever the gap
exceeds its standstill gap, so an ego stopped a few cm beyond it behind a stopped car planned
a creep that the tracker braked to rest, over and over (+-0.06 m/s in CCRs and at a red
light's queue). A standing plan now moves off only with ``MOVE_OFF_ROOM_M`` of room."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import IDMPlanner, PDMPlanner
from drivestack.planning.proposals import MOVE_OFF_ROOM_M
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_scenarios
from drivestack.sim.vehicle import VehicleParams
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState
from drivestack.structures.traffic_light import LaneStop, SignalCycle, SignalPhase, TrafficLight

PLANNERS = (PDMPlanner, IDMPlanner)
CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "scenarios"
FRONT_M = VehicleParams().front_offset_m  # 4.15 m
CAR_LENGTH_M = 4.5
MIN_GAP_M = 2.0  # both planners' idm.min_gap_m


def car_ahead(gap_m: float, speed_mps: float = 0.0) -> Boxes3D:
    """A car whose rear is ``gap_m`` ahead of the front bumper of an ego at x = 0."""
    x = FRONT_M + gap_m + CAR_LENGTH_M / 2
    return Boxes3D.from_array7(
        [[x, 1.75, 0.75, CAR_LENGTH_M, 1.8, 1.5, 0.0]],
        "world",
        label=[1],
        velocity_mps=[[speed_mps, 0.0]],
    )


def standing_plan(
    planner_cls: type[PDMPlanner] | type[IDMPlanner], agents: Boxes3D, lights: tuple = ()
) -> np.ndarray:
    road = straight_road(n_lanes=1, speed_limit_mps=13.89)
    if lights:
        road = dataclasses.replace(road, traffic_lights=lights)
    planner = planner_cls(road, ["road_0"])
    ego = EgoState(0, 0.0, 1.75, 0.0, speed_mps=0.0)
    ids = tuple(f"a{i}" for i in range(len(agents)))
    states = tuple((light.light_id, "red") for light in lights)
    return planner.step(Observation(0, ego, agents, ids, states)).speed_mps


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_standing_plan_stays_behind_a_stopped_car_within_the_move_off_room(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    # 0.1 m beyond the standstill gap: IDM's 1.5 * (1 - (2 / 2.1)^2) = 0.14 m/s^2 crept on
    speed = standing_plan(planner_cls, car_ahead(MIN_GAP_M + 0.1))
    assert np.all(speed == 0.0)
    speed = standing_plan(planner_cls, car_ahead(MIN_GAP_M + MOVE_OFF_ROOM_M - 0.05))
    assert np.all(speed == 0.0)


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_standing_plan_moves_off_with_room_or_behind_a_car_pulling_away(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    # more room than the move-off room: it closes up (and stops before the standstill gap)
    speed = standing_plan(planner_cls, car_ahead(MIN_GAP_M + MOVE_OFF_ROOM_M + 1.0))
    assert np.max(speed) > 0.3
    # the car ahead pulls away at 1 m/s: the ego follows at once
    speed = standing_plan(planner_cls, car_ahead(MIN_GAP_M + 0.1, speed_mps=1.0))
    assert speed[10] > 0.0 and np.max(speed) > 0.5


@pytest.mark.parametrize("planner_cls", PLANNERS)
def test_a_standing_plan_stays_short_of_a_red_lights_stop_point(
    planner_cls: type[PDMPlanner] | type[IDMPlanner],
) -> None:
    """Standing 0.5 m short of the stop point (``min_gap_m`` before the line): the light
    stop's ``gain * sqrt(2 b d)`` = 1.7 m/s^2 crept it there; within the move-off room it
    stays."""
    red = SignalCycle((SignalPhase("red", 60.0),))
    line_x = FRONT_M + MIN_GAP_M + 0.5
    light = TrafficLight("tl", (LaneStop("road_0", line_x + 100.0),), red)
    speed = standing_plan(planner_cls, Boxes3D.empty("world"), (light,))
    assert np.all(speed == 0.0)


@pytest.mark.parametrize("planner", ["pdm", "idm"])
def test_the_ego_stays_at_rest_behind_the_stationary_car(planner: str) -> None:
    """CCRs at 10 km/h: once stopped behind the stationary car the ego stays at 0 m/s (it
    crept at up to 0.063 m/s, stopping and starting every second)."""
    cfg = next(s for s in load_scenarios(CONFIGS / "ccrs.yaml") if s.name == "ccrs[10kph]")
    result = run_scenario(cfg, planner)
    speed = result.history.ego_speed_mps
    stopped = int(np.argmax(speed == 0.0))
    assert stopped > 0 and len(speed) - stopped > 50  # at rest for the last 5 s at least
    assert np.max(speed[stopped:]) <= 1e-3
    assert not result.history.collisions.any()
