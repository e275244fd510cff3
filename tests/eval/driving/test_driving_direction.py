"""nuPlan's driving-direction compliance by hand (nuplan-devkit
``driving_direction_compliance.py``, ``route_extractor.py``): backwards progress along the
baseline of the lane the ego's centre is in, over ``int(1 s / dt) + 1`` samples."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving import driving_direction as dd
from drivestack.eval.driving.nuplan import nuplan_score
from drivestack.planning.reference_path import ReferencePath
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import Lane, RoadMap

from .test_nuplan_metrics import DT, history

XS = np.linspace(-100.0, 500.0, 61)


def _lane(lane_id: str, y0: float, y1: float, forward: bool) -> Lane:
    """A straight lane between ``y = y0`` and ``y = y1`` (y0 < y1) along +x or -x."""
    xs = XS if forward else XS[::-1]
    centre = np.stack([xs, np.full_like(xs, 0.5 * (y0 + y1))], axis=1)
    left = np.stack([xs, np.full_like(xs, y1 if forward else y0)], axis=1)
    right = np.stack([xs, np.full_like(xs, y0 if forward else y1)], axis=1)
    return Lane(lane_id, centre, left, right, speed_limit_mps=15.0)


# east along +x on y in [0, 3.5], west along -x on y in [-3.5, 0]
TWO_WAY = RoadMap((_lane("east", 0.0, 3.5, True), _lane("west", -3.5, 0.0, False)))
EAST = ReferencePath.from_route(TWO_WAY, ["east"])


def _centres(h: SimHistory) -> np.ndarray:
    return h.ego_boxes[:, :2]


def test_driving_in_the_oncoming_lane_is_a_violation() -> None:
    # 10 m/s along +x for 3 s: in its own lane compliant, in the oncoming lane 1 m backwards
    # per tick along the west baseline: 11 samples sum to -11 m (the first one counts 0)
    n = 31
    x = 10.0 * np.arange(n) * DT
    own = history(x, np.full(n, 10.0), y=1.75)
    oncoming = history(x, np.full(n, 10.0), y=-1.75)
    assert nuplan_score(own, TWO_WAY, EAST, 30.0).driving_direction_compliance == 1.0
    m = nuplan_score(oncoming, TWO_WAY, EAST, 30.0)
    assert m.driving_direction_compliance == 0.0 and m.score == 0.0
    score, back = dd.driving_direction_compliance(
        TWO_WAY, _centres(oncoming), oncoming.ego_yaw_rad, oncoming.timestamp_ns
    )
    assert (score, back) == (0.0, pytest.approx(11.0))


@pytest.mark.parametrize(("step_m", "expected"), [(0.18, 1.0), (0.19, 0.5)])
def test_the_window_sums_eleven_samples_at_10_hz(step_m: float, expected: float) -> None:
    # reversing step_m per tick for 11 ticks in the own lane: nuPlan sums progress[i-10 : i+1],
    # 11 moves: 11 * 0.19 = 2.09 m >= 2 (0.5); a 1 s station difference (10 moves) saw 1.9 m
    n = 31
    moves = np.zeros(n)
    moves[1:12] = step_m
    x = 50.0 - np.cumsum(moves)
    h = history(x, np.full(n, -step_m / DT), y=1.75)
    assert dd.window_samples(h.timestamp_ns) == 10
    assert nuplan_score(h, TWO_WAY, EAST, 30.0).driving_direction_compliance == expected


@pytest.mark.parametrize(("dt_ns", "n"), [(50_000_000, 20), (100_000_000, 10), (200_000_000, 5)])
def test_window_samples(dt_ns: int, n: int) -> None:
    assert dd.window_samples(np.arange(12, dtype=np.int64) * dt_ns) == n
    assert dd.window_samples(np.array([0], dtype=np.int64)) == 0


def test_progress_resets_in_a_new_lane_and_counts_zero_off_the_lanes() -> None:
    # east lane stations 10, 11 | no lane | east again at 15 (measured from 11: +4, as nuPlan
    # keeps the lane and station while off the lanes) | west lane: 0 on entering and 0 at the
    # next sample (nuPlan has no previous station there yet) | then -1 m per metre along +x
    centres = np.array(
        [
            [10.0, 1.0],
            [11.0, 1.0],
            [12.0, 9.0],
            [15.0, 1.0],
            [15.0, -1.0],
            [16.0, -1.0],
            [17.0, -1.0],
        ]
    )
    route = dd.ego_driven_lanes(TWO_WAY, centres, np.zeros(7))
    assert route == [["east"], ["east"], [], ["east"], ["west"], ["west"], ["west"]]
    progress = dd.baseline_progress_m(TWO_WAY, centres, route)
    np.testing.assert_allclose(progress, [0.0, 1.0, 0.0, 4.0, 0.0, 0.0, -1.0])
    assert dd.max_backward_progress_m(progress, 1) == pytest.approx(1.0)
    assert dd.max_backward_progress_m(np.array([0.0, -1.5, -1.5, 0.0]), 1) == pytest.approx(3.0)


def test_a_two_way_lane_pair_on_one_area_takes_the_lane_the_ego_heads_along() -> None:
    # a two-way lanelet read as two lanes on the same area (a Lanelet2 "-reverse" lane)
    fwd = _lane("a", 0.0, 3.5, True)
    rev = _lane("a-reverse", 0.0, 3.5, False)
    road = RoadMap((rev, fwd))
    centres = np.stack([np.arange(5.0), np.full(5, 1.75)], axis=1)
    assert dd.ego_driven_lanes(road, centres, np.zeros(5))[0] == ["a", "a-reverse"]
    assert dd.ego_driven_lanes(road, centres[::-1], np.full(5, np.pi))[0] == ["a-reverse", "a"]
    ts = np.arange(5, dtype=np.int64) * 100_000_000
    assert dd.driving_direction_compliance(road, centres * 3, np.zeros(5), ts)[0] == 1.0


def test_extra_lanes_narrow_to_where_the_ego_ends_up() -> None:
    # a fork: "in" splits into "left" and "right", which overlap at first
    road = RoadMap(
        (
            Lane("in", [[0.0, 0.0], [10.0, 0.0]], [[0.0, 2.0], [10.0, 2.0]], [[0.0, -2.0], [10.0, -2.0]], successors=("left", "right")),
            Lane("left", [[10.0, 0.0], [20.0, 5.0]], [[10.0, 2.0], [20.0, 7.0]], [[10.0, -2.0], [20.0, 3.0]], predecessors=("in",)),
            Lane("right", [[10.0, 0.0], [20.0, -5.0]], [[10.0, 2.0], [20.0, -3.0]], [[10.0, -2.0], [20.0, -7.0]], predecessors=("in",)),
        )
    )  # fmt: skip
    assert dd.remove_extra_lanes(road, [["left", "right"], ["left", "right"], ["right"]]) == [
        ["right"],
        ["right"],
        ["right"],
    ]
    # nuPlan's all([]): several lanes before a sample in none narrow to none
    assert dd.remove_extra_lanes(road, [["left", "right"], []]) == [[], []]
    # the next lane's predecessors are kept
    assert dd.remove_extra_lanes(road, [["in", "left"], ["right"]]) == [["in"], ["right"]]
