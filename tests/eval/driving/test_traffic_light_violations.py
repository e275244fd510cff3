"""Red-light violations on crafted histories: the ego's front passing a stop segment at red.

Straight road along +x (lanes 3.5 m wide: road_0 centred on y = 1.75, road_1 on y = 5.25;
lane station s is at x = s - 100). The default vehicle's front bumper is 5.18 - 1.03 =
4.15 m ahead of its rear axle.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivestack.eval.driving.traffic_lights import (
    front_bumper_m,
    red_light_violations,
    stop_segments,
)
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.sim.runner import SimHistory
from drivestack.sim.vehicle import BicycleState, VehicleParams
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import (
    SIGNAL_STATES,
    LaneStop,
    SignalCycle,
    SignalPhase,
    TrafficLight,
)
from tests._map_helpers import moved_map
from tests.eval.driving._ego_history import ego_only_history

VEHICLE = VehicleParams()
FRONT_M = VEHICLE.length_m - VEHICLE.rear_overhang_m  # 4.15 m ahead of the rear axle
DT = 0.1
ROAD = straight_road(length_m=600.0, n_lanes=2)


def light(light_id: str, *stops: tuple[str, float]) -> TrafficLight:
    """A light stopping ``stops`` (lane, station); its cycle does not matter here (the
    history's recorded states do)."""
    cycle = SignalCycle((SignalPhase("red", 10.0),))
    return TrafficLight(light_id, tuple(LaneStop(lane, s) for lane, s in stops), cycle)


def road_with(*lights: TrafficLight, road: RoadMap = ROAD) -> RoadMap:
    return dataclasses.replace(road, traffic_lights=lights)


def history(
    front_x_m: np.ndarray,
    states: dict[str, list[str] | str],
    y_m: float = 1.75,
    yaw_rad: float = 0.0,
    speed_mps: np.ndarray | None = None,
) -> SimHistory:
    """A history whose front bumper is at ``front_x_m (T,)`` (heading ``yaw_rad``, rear axle
    at ``y_m``) and whose lights showed ``states`` (one state for every tick, or a list)."""
    n = len(front_x_m)
    x = np.asarray(front_x_m, dtype=np.float64) - FRONT_M * math.cos(yaw_rad)
    y = np.full(n, y_m) - FRONT_M * math.sin(yaw_rad)
    speed = np.full(n, 10.0) if speed_mps is None else speed_mps
    ego = BicycleState.of(x, y, yaw_rad, speed, 0.0, 0.0)
    columns = [
        [SIGNAL_STATES.index(s) for s in ([v] * n if isinstance(v, str) else v)]
        for v in states.values()
    ]
    codes = np.array(columns, dtype=np.int8).T.reshape(n, len(states))
    return ego_only_history(
        ego, VEHICLE, DT, traffic_light_ids=tuple(states), traffic_light_state=codes
    )


#: The front passes x = 100 m (road_0 station 200 m) between ticks 4 (0.5 m before) and 5.
PASSING_X_M = 95.5 + np.arange(11) * 1.0


def test_front_bumper_is_half_a_length_ahead_of_the_box_centre() -> None:
    boxes = np.array([[1.0, 2.0, 0.9, 4.0, 2.0, 1.8, math.pi / 2]])
    np.testing.assert_allclose(front_bumper_m(boxes), [[1.0, 4.0]], atol=1e-12)
    ego = BicycleState.of(10.0, 0.0, 0.0, 0.0)  # rear axle at x = 10 m
    assert front_bumper_m(ego.boxes(VEHICLE))[0, 0] == pytest.approx(10.0 + FRONT_M)


def test_stop_segment_spans_the_lane_at_the_station() -> None:
    (seg,) = stop_segments(road_with(light("L1", ("road_0", 200.0))))
    assert (seg.light_id, seg.lane_id, seg.station_m) == ("L1", "road_0", 200.0)
    np.testing.assert_allclose(seg.center_m, [100.0, 1.75])
    assert seg.heading_rad == pytest.approx(0.0)
    assert seg.left_m == pytest.approx(1.75) and seg.right_m == pytest.approx(1.75)
    np.testing.assert_allclose(seg.ends_m(), [[100.0, 0.0], [100.0, 3.5]], atol=1e-12)


def test_passing_at_red_counts_once() -> None:
    result = red_light_violations(
        history(PASSING_X_M, {"L1": "red"}), road_with(light("L1", ("road_0", 200.0)))
    )
    assert result.count == 1 and result.lights == 1
    (v,) = result.violations
    assert (v.tick, v.light_id, v.lane_id) == (5, "L1", "road_0")
    # crossing halfway between tick 4 (0.4 s) and tick 5 (0.5 s)
    assert v.time_s == pytest.approx(0.45) and v.speed_mps == pytest.approx(10.0)
    assert result.as_dict()["events"][0]["tick"] == 5


@pytest.mark.parametrize("state", ["green", "yellow", "off", "unknown"])
def test_passing_in_other_states_does_not_count(state: str) -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    assert red_light_violations(history(PASSING_X_M, {"L1": state}), road).count == 0


def test_red_yellow_is_a_stop_state() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    assert red_light_violations(history(PASSING_X_M, {"L1": "red_yellow"}), road).count == 1


def test_the_state_during_the_move_decides() -> None:
    """The state recorded at tick k is the light's during the move k -> k + 1 (what the
    planner saw at k); the front passes the line in the move 4 -> 5."""
    road = road_with(light("L1", ("road_0", 200.0)))
    for states, count in (
        (["green"] * 5 + ["red"] * 6, 0),  # red from tick 5: green while it passed
        (["green"] * 4 + ["red"] * 7, 1),  # red from tick 4
        (["red"] * 5 + ["green"] * 6, 1),  # green from tick 5: red while it passed
        (["red"] * 4 + ["green"] * 7, 0),  # green from tick 4
    ):
        assert red_light_violations(history(PASSING_X_M, {"L1": states}), road).count == count


#: The front passes x = 100 m at 6.929 s, 0.29 of the way from tick 69 (x = 99.71 m) to 70.
AT_6_929_X_M = 100.0 + (np.arange(81) * DT - 6.929) * 10.0


def test_a_yellow_that_turns_red_after_the_crossing_is_not_run() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    turns_red = ["yellow"] * 70 + ["red"] * 11  # red from 7.0 s, crossed at 6.929 s
    assert red_light_violations(history(AT_6_929_X_M, {"L1": turns_red}), road).count == 0


def test_a_red_that_ends_after_the_crossing_is_run_at_the_crossing_time() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    turns_green = ["red"] * 70 + ["green"] * 11  # green from 7.0 s, crossed at 6.929 s
    (v,) = red_light_violations(history(AT_6_929_X_M, {"L1": turns_green}), road).violations
    assert v.tick == 70 and v.time_s == pytest.approx(6.929)


def test_the_speed_is_interpolated_at_the_crossing() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    speed = np.linspace(10.0, 20.0, 11)  # 14.0 at tick 4, 15.0 at tick 5; crossing halfway
    (v,) = red_light_violations(
        history(PASSING_X_M, {"L1": "red"}, speed_mps=speed), road
    ).violations
    assert v.speed_mps == pytest.approx(14.5)


def test_stopping_one_metre_before_the_line_is_not_a_violation() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    front = np.minimum(90.0 + np.arange(20) * 1.0, 99.0)  # stops with its front at x = 99 m
    assert red_light_violations(history(front, {"L1": "red"}), road).count == 0


def test_touching_the_line_is_not_passing_it() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    front = np.minimum(95.0 + np.arange(10) * 1.0, 100.0)  # front ends exactly on the line
    assert red_light_violations(history(front, {"L1": "red"}), road).count == 0


def test_the_neighbouring_lane_passes_the_lines_extension() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))  # the light stops road_0 only
    on_road_1 = history(PASSING_X_M, {"L1": "red"}, y_m=5.25)
    assert red_light_violations(on_road_1, road).count == 0
    both = road_with(light("L1", ("road_0", 200.0), ("road_1", 200.0)))
    assert red_light_violations(on_road_1, both).count == 1


def test_sideways_and_backwards_are_not_violations() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    # heading across the lane (+y) while its front slides over x = 100 m
    across = history(PASSING_X_M, {"L1": "red"}, yaw_rad=math.pi / 2)
    assert red_light_violations(across, road).count == 0
    # moving along the line: the front runs from y = 0.5 to 3.0 m at x = 100.2 m
    along = history(np.full(6, 100.2), {"L1": "red"}, yaw_rad=math.pi / 2, y_m=0.0)
    along = dataclasses.replace(
        along,
        ego_boxes=np.column_stack(
            [
                np.full(6, 100.2),
                0.5 + 0.5 * np.arange(6) - 0.5 * VEHICLE.length_m,
                np.full(6, 0.9),
                np.full(6, VEHICLE.length_m),
                np.full(6, VEHICLE.width_m),
                np.full(6, VEHICLE.height_m),
                np.full(6, math.pi / 2),
            ]
        ),
    )
    assert red_light_violations(along, road).count == 0
    # reversing over it: facing -x, the front moves from x = 100.5 to 99.5 m
    facing_back = history(PASSING_X_M, {"L1": "red"}, yaw_rad=math.pi)
    assert red_light_violations(facing_back, road).count == 0
    # facing +x but moving back over it
    assert red_light_violations(history(PASSING_X_M[::-1], {"L1": "red"}), road).count == 0


def test_a_diagonal_passing_counts() -> None:
    """Heading 45 degrees off the lane (a lane change over the line) is within 60 degrees."""
    road = road_with(light("L1", ("road_0", 200.0)))
    diagonal = history(PASSING_X_M, {"L1": "red"}, yaw_rad=math.pi / 4)
    assert red_light_violations(diagonal, road).count == 1


def test_two_lights_at_two_stops() -> None:
    road = road_with(light("L1", ("road_0", 200.0)), light("L2", ("road_0", 300.0)))
    front = 95.5 + np.arange(111) * 1.0  # x = 100 m between ticks 4 and 5, 200 m at 104, 105
    both_red = history(front, {"L1": "red", "L2": "red"})
    result = red_light_violations(both_red, road)
    assert [(v.tick, v.light_id) for v in result.violations] == [(5, "L1"), (105, "L2")]
    assert result.lights == 2
    second_green = history(front, {"L1": "red", "L2": "green"})
    assert [v.light_id for v in red_light_violations(second_green, road).violations] == ["L1"]


def test_one_passing_of_a_light_with_touching_stops_counts_once() -> None:
    road = road_with(light("L1", ("road_0", 200.0), ("road_1", 200.0)))
    on_the_lane_line = history(PASSING_X_M, {"L1": "red"}, y_m=3.5)  # on both segments' ends
    assert red_light_violations(on_the_lane_line, road).count == 1


def test_two_signal_heads_on_one_stop_line_count_once() -> None:
    """A junction approach with two heads (two lights stopping the same line) is one red run,
    named after the first red one in map order; only the heads that show red count."""
    road = road_with(light("H1", ("road_0", 200.0)), light("H2", ("road_0", 200.0)))
    both_red = red_light_violations(history(PASSING_X_M, {"H1": "red", "H2": "red"}), road)
    assert [(v.tick, v.light_id) for v in both_red.violations] == [(5, "H1")]
    second_only = history(PASSING_X_M, {"H1": "green", "H2": "red"})
    assert [v.light_id for v in red_light_violations(second_only, road).violations] == ["H2"]


def test_lights_the_history_did_not_record_are_unknown() -> None:
    road = road_with(light("L1", ("road_0", 200.0)))
    assert red_light_violations(history(PASSING_X_M, {}), road).count == 0
    assert red_light_violations(history(PASSING_X_M, {"L1": "red"}), ROAD).lights == 0


@settings(max_examples=40, deadline=None)
@given(
    angle=st.floats(-math.pi, math.pi),
    shift=st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)),
    lateral=st.floats(-1.7, 1.7),
    stop_x=st.floats(95.8, 105.2),
)
def test_turning_and_shifting_the_scene_changes_nothing(
    angle: float, shift: tuple[float, float], lateral: float, stop_x: float
) -> None:
    """A drive along road_0 ``lateral`` m off its centre, stopping with its front at
    ``stop_x``: a violation exactly when it passed x = 100 m; the same in any placement."""
    assume(abs(stop_x - 100.0) > 1e-6)  # not on the line itself (rounding decides there)
    front = np.minimum(90.25 + np.arange(30) * 0.5, stop_x)
    passed = bool(front[-1] > 100.0)
    road = road_with(light("L1", ("road_0", 200.0)))
    turned = moved_map(road, angle, shift)
    drive = history(front, {"L1": "red"}, y_m=1.75 + lateral)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    boxes = drive.ego_boxes.copy()
    boxes[:, :2] = boxes[:, :2] @ rot.T + np.asarray(shift)
    boxes[:, 6] = np.arctan2(np.sin(boxes[:, 6] + angle), np.cos(boxes[:, 6] + angle))
    moved = dataclasses.replace(drive, ego_boxes=boxes)
    assert red_light_violations(drive, road).count == int(passed)
    assert red_light_violations(moved, turned).count == int(passed)


def _with_agents(h: SimHistory, boxes: np.ndarray, valid: np.ndarray, ids: tuple[str, ...]):
    """``h`` with agents ``ids`` at ``boxes (T, A, 7)``, present where ``valid (T, A)``,
    moving at 10 m/s along x."""
    velocity = np.zeros((*boxes.shape[:2], 2))
    velocity[..., 0] = 10.0
    return dataclasses.replace(
        h,
        agent_ids=ids,
        agent_labels=np.zeros(len(ids), dtype=np.int64),
        agent_boxes=boxes,
        agent_velocity_mps=velocity,
        agent_valid=valid,
        collisions=np.zeros(valid.shape, dtype=bool),
    )


def test_agents_red_light_runs_are_counted_apart_from_the_ego() -> None:
    """Agent boxes (4 m long) with fronts at ``PASSING_X_M``: the front passes x = 100 m
    between ticks 4 and 5 at red, as the ego's test does; the ego stays 50 m back."""
    n = len(PASSING_X_M)
    ego_still = history(np.full(n, 50.0), {"L1": "red"})
    box = np.zeros((n, 7))
    box[:, 0], box[:, 1], box[:, 3], box[:, 4] = PASSING_X_M - 2.0, 1.75, 4.0, 1.8
    runs = box.copy()
    sideways = box.copy()
    sideways[:, 6] = math.pi / 2  # heading across the lane: front moved back onto x anyway
    sideways[:, 0] = PASSING_X_M
    sideways[:, 1] = 1.75 - 2.0
    boxes = np.stack([runs, box, sideways], axis=1)
    valid = np.ones((n, 3), dtype=bool)
    valid[5, 1] = False  # gone at the tick after the move: not counted
    h = _with_agents(ego_still, boxes, valid, ("a", "b", "c"))
    result = red_light_violations(h, road_with(light("L1", ("road_0", 200.0))))
    assert result.count == 0  # the ego's, the pass criterion, untouched
    (run,) = result.agent_runs
    assert (run.agent_id, run.tick, run.light_id, run.lane_id) == ("a", 5, "L1", "road_0")
    assert run.time_s == pytest.approx(0.45) and run.speed_mps == pytest.approx(10.0)
    d = result.as_dict()
    assert d["agent_red_light_runs"] == 1 and d["agent_events"][0]["agent_id"] == "a"
    assert d["violations"] == 0 and d["events"] == []
    # at green, no run
    green = _with_agents(history(np.full(n, 50.0), {"L1": "green"}), boxes, valid, ("a", "b", "c"))
    assert red_light_violations(green, road_with(light("L1", ("road_0", 200.0)))).agent_runs == ()
