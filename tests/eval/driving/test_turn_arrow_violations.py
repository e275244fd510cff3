"""Red-light violations at a turn arrow, on crafted histories over the hand-built CommonRoad
intersection of ``tests/ingest/maps/turn_arrows.py`` (lanelet 1 along +x, its stop line at
x = 60 m; light 10 a left arrow, light 11 a straight light): a passing at a red arrow counts
only when the front goes on into the left turn, a straight crossing does not, a passing whose
way the history never decides counts, and the simulated agents are judged the same way."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from drivestack.eval.driving.traffic_lights import red_light_violations, stop_segments
from drivestack.ingest.maps.commonroad import read_commonroad
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.road_map import RoadMap, interpolate_polyline
from drivestack.structures.traffic_light import SIGNAL_STATES
from tests.ingest.maps.turn_arrows import AFTER, LEFT, LINE_X_M, RIGHT, STRAIGHT, write_intersection

VEHICLE = VehicleParams()
FRONT_M = VEHICLE.length_m - VEHICLE.rear_overhang_m  # rear axle to front bumper
DT = 0.1
SPEED_MPS = 10.0
RED, GREEN = SIGNAL_STATES.index("red"), SIGNAL_STATES.index("green")


@pytest.fixture(scope="module")
def road_map(tmp_path_factory: pytest.TempPathFactory) -> RoadMap:
    return read_commonroad(write_intersection(tmp_path_factory.mktemp("cr"))).road_map


def _poses(road_map: RoadMap, lanes: list[str], front_s_m: np.ndarray) -> np.ndarray:
    """``(T, 3)`` rear-axle ``x, y, yaw`` of a car whose front bumper is at stations
    ``front_s_m (T,)`` along the joined centrelines of ``lanes``, heading along them."""
    parts = [road_map.lane(lanes[0]).centerline_m]
    parts += [road_map.lane(lane).centerline_m[1:] for lane in lanes[1:]]
    xy, yaw = interpolate_polyline(np.concatenate(parts), front_s_m)
    return np.column_stack(
        [xy[:, 0] - FRONT_M * np.cos(yaw), xy[:, 1] - FRONT_M * np.sin(yaw), yaw]
    )


def _history(
    road_map: RoadMap,
    lanes: list[str],
    n_ticks: int,
    agent_lanes: list[str] | None = None,
) -> SimHistory:
    """The ego's front from 50 m along lanelet 1 on at 1 m a tick (past the line between
    ticks 10 and 11) along ``lanes``; an agent doing the same along ``agent_lanes``; the left
    arrow (10) red and the straight light (11) green throughout."""
    front_s = 50.0 + np.arange(n_ticks) * 1.0  # 1 m per tick
    front_s[10] = LINE_X_M - 0.5  # tick 10 just before the line, tick 11 0.5 m past it
    pose = _poses(road_map, lanes, front_s)
    ego = BicycleState.of(pose[:, 0], pose[:, 1], pose[:, 2], SPEED_MPS, 0.0, 0.0)
    n = n_ticks
    agents: tuple[str, ...] = ()
    boxes, velocity = np.zeros((n, 0, 7)), np.zeros((n, 0, 2))
    if agent_lanes is not None:
        apose = _poses(road_map, agent_lanes, front_s)
        agent = BicycleState.of(apose[:, 0], apose[:, 1], apose[:, 2], SPEED_MPS, 0.0, 0.0)
        boxes = agent.boxes(VEHICLE)[:, None]
        velocity = (SPEED_MPS * np.column_stack([np.cos(apose[:, 2]), np.sin(apose[:, 2])]))[
            :, None
        ]
        agents = ("a",)
    a = len(agents)
    codes = np.tile(np.array([[RED, GREEN]], dtype=np.int8), (n, 1))
    return SimHistory(
        DT,
        np.arange(n, dtype=np.int64) * 100_000_000,
        ego.x_m,
        ego.y_m,
        ego.yaw_rad,
        ego.speed_mps,
        ego.acceleration_mps2,
        ego.steering_rad,
        ego.boxes(VEHICLE),
        agents,
        np.zeros(a, dtype=np.int64),
        boxes,
        velocity,
        np.ones((n, a), dtype=bool),
        np.zeros((n, a), dtype=bool),
        np.zeros(n - 1),
        np.zeros(n - 1),
        VEHICLE,
        traffic_light_ids=("10", "11"),
        traffic_light_state=codes,
    )


def test_the_segments_carry_the_governed_ways(road_map: RoadMap) -> None:
    ways = {seg.light_id: seg.next_lanes for seg in stop_segments(road_map)}
    assert ways == {"10": (LEFT,), "11": (STRAIGHT,)}


@pytest.mark.parametrize(
    ("way", "count"),
    [(LEFT, 1), (STRAIGHT, 0), (RIGHT, 0)],
)
def test_a_red_arrow_is_run_only_by_turning_into_its_way(
    road_map: RoadMap, way: str, count: int
) -> None:
    result = red_light_violations(_history(road_map, ["1", way, AFTER[way]], 40), road_map)
    assert result.count == count
    if count:
        (v,) = result.violations
        assert (v.tick, v.light_id, v.lane_id) == (11, "10", "1")
        # 0.5 m of the 1.5 m move (the last metre on the arc, a hair short of 1 m along x)
        assert v.time_s == pytest.approx(1.0 + 0.5 / 1.5 * DT, abs=1e-4)


def test_a_passing_whose_way_is_never_decided_counts(road_map: RoadMap) -> None:
    # the history ends 1 m past the line (tick 12), where the three ways still overlap
    short = _history(road_map, ["1", STRAIGHT, AFTER[STRAIGHT]], 13)
    assert red_light_violations(short, road_map).count == 1
    # the same straight drive, long enough to leave the left turn's lane: not counted
    assert red_light_violations(_history(road_map, ["1", STRAIGHT, "5"], 25), road_map).count == 0


def test_the_agents_are_judged_the_same_way(road_map: RoadMap) -> None:
    for ego_way, agent_way in itertools.product((STRAIGHT, LEFT), repeat=2):
        history = _history(
            road_map,
            ["1", ego_way, AFTER[ego_way]],
            40,
            agent_lanes=["1", agent_way, AFTER[agent_way]],
        )
        result = red_light_violations(history, road_map)
        assert result.count == int(ego_way == LEFT)
        assert [r.agent_id for r in result.agent_runs] == (["a"] if agent_way == LEFT else [])


def test_a_plain_red_is_run_whichever_way(tmp_path: Path) -> None:
    road_map = read_commonroad(write_intersection(tmp_path, arrow="all")).road_map
    for way in (STRAIGHT, LEFT, RIGHT):
        history = _history(road_map, ["1", way, AFTER[way]], 40)
        assert red_light_violations(history, road_map).count == 1
