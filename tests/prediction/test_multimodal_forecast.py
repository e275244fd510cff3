"""MultiModalForecast checks and the lane-branch forecast on a hand-built fork."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.prediction import lane_following_forecast
from drivestack.prediction.multimodal import MultiModalForecast, lane_branch_forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import Lane, RoadMap


def _lane(lane_id: str, centre: list[list[float]], successors: tuple[str, ...] = ()) -> Lane:
    c = np.asarray(centre, dtype=float)
    d = np.diff(c, axis=0)
    d = np.vstack([d, d[-1:]])
    n = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.linalg.norm(d, axis=1)[:, None]
    return Lane(lane_id, c, c - 1.75 * n, c + 1.75 * n, successors=successors)


# A: x 0 -> 50 along y = 0, forking into B (straight on to x = 100) and C (left, up along
# x = 50 from y = 0 to 50, after a diagonal piece)
FORK = RoadMap(
    (
        _lane("A", [[0.0, 0.0], [50.0, 0.0]], ("B", "C")),
        _lane("B", [[50.0, 0.0], [100.0, 0.0]]),
        _lane("C", [[50.0, 0.0], [55.0, 5.0], [55.0, 55.0]]),
    )
)


def _car(x: float, y: float, yaw: float, speed: float, label: int = 1) -> Boxes3D:
    v = [speed * math.cos(yaw), speed * math.sin(yaw)]
    return Boxes3D.from_array7(
        [[x, y, 0.8, 4.5, 1.9, 1.6, yaw]], "world", label=[label], velocity_mps=[v]
    )


def test_one_mode_per_branch_plus_constant_velocity() -> None:
    car = _car(40.0, 0.5, 0.0, 10.0)  # 0.5 m left of A's centreline, 30 m to drive in 3 s
    f = lane_branch_forecast(car, FORK, 3.0, 0.5)
    assert f.boxes.shape == (1, 6, 7, 7)
    assert f.valid.tolist() == [[True, True, True, False, False, False]]
    np.testing.assert_allclose(f.probability, [[0.2, 0.4, 0.4, 0, 0, 0]])
    # mode 0: constant velocity to (70, 0.5); mode 1 (B): the same here; mode 2 (C): 10 m on
    # A, the diagonal (7.07 m), then 12.93 m up x = 55, keeping 0.5 m to the left (x = 54.5)
    np.testing.assert_allclose(f.boxes[0, 0, -1, :2], [70.0, 0.5])
    np.testing.assert_allclose(f.boxes[0, 1, -1, :2], [70.0, 0.5])
    np.testing.assert_allclose(f.boxes[0, 2, -1, :2], [54.5, 5.0 + 30 - 10 - math.hypot(5, 5)])
    assert f.boxes[0, 2, -1, 6] == pytest.approx(math.pi / 2)
    # the most likely mode (ties: lowest index) is the first branch: lane following's
    single = lane_following_forecast(car, FORK, 3.0, 0.5)
    np.testing.assert_allclose(f.most_likely(), single.boxes)


def test_no_branch_when_one_lane_covers_the_horizon_or_for_pedestrians() -> None:
    f = lane_branch_forecast(_car(5.0, 0.0, 0.0, 10.0), FORK, 3.0, 0.5)  # ends at 35 m on A
    assert f.valid[0].sum() == 2
    ped = lane_branch_forecast(_car(40.0, 0.0, 0.0, 1.5, label=2), FORK, 3.0, 0.5)
    assert ped.valid[0].tolist() == [True] + [False] * 5
    assert ped.probability[0, 0] == 1.0


def test_a_crossing_lane_gives_no_lane_modes() -> None:
    # yaw 80 degrees across lane A: nearest_lane takes it (within 90 degrees), the forecast not
    f = lane_branch_forecast(_car(20.0, 0.0, math.radians(80), 10.0), FORK, 3.0, 0.5)
    assert f.valid[0].sum() == 1
    assert f.probability[0, 0] == 1.0


def test_max_modes_caps_the_branches() -> None:
    f = lane_branch_forecast(_car(40.0, 0.0, 0.0, 10.0), FORK, 3.0, 0.5, max_modes=2)
    assert f.boxes.shape[1] == 2 and f.valid.all()
    np.testing.assert_allclose(f.probability, [[0.2, 0.8]])


def test_with_four_branches_a_branch_stays_the_most_likely_mode() -> None:
    # A forks four ways: an equal share of 0.8 would be 0.2 each, tied with constant velocity
    # (and five ways, below it), and the top mode would be constant velocity at the fork
    ends = {"B": [100.0, 0.0], "C": [50.0, 50.0], "D": [50.0, -50.0], "E": [90.0, 30.0]}
    lanes = [_lane("A", [[0.0, 0.0], [50.0, 0.0]], tuple(ends))]
    lanes += [_lane(k, [[50.0, 0.0], end]) for k, end in ends.items()]
    car = _car(40.0, 0.0, 0.0, 10.0)
    f = lane_branch_forecast(car, RoadMap(tuple(lanes)), 3.0, 0.5)
    np.testing.assert_allclose(f.probability, [[1 / 6, 5 / 24, 5 / 24, 5 / 24, 5 / 24, 0]])
    single = lane_following_forecast(car, RoadMap(tuple(lanes)), 3.0, 0.5)
    np.testing.assert_allclose(f.most_likely(), single.boxes)


def test_multimodal_forecast_checks() -> None:
    boxes = np.zeros((1, 2, 3, 7))
    with pytest.raises(ValueError, match="sum to 1"):
        MultiModalForecast(0.1, boxes, np.array([[0.5, 0.0]]), np.array([[True, False]]))
    with pytest.raises(ValueError, match="0 for padding modes"):
        MultiModalForecast(0.1, boxes, np.array([[0.5, 0.5]]), np.array([[True, False]]))
    with pytest.raises(ValueError, match=r"\(A, K, T\+1, 7\)"):
        MultiModalForecast(0.1, np.zeros((1, 2, 3)), np.ones((1, 2)), np.ones((1, 2), bool))
    ok = MultiModalForecast(0.1, boxes, np.array([[0.3, 0.7]]), np.array([[True, True]]))
    assert (ok.n_modes, ok.n_steps) == (2, 2)


def test_no_road_map_is_a_type_error_naming_it() -> None:
    car = _car(0.0, 0.0, 0.0, 10.0)
    with pytest.raises(
        TypeError, match=r"lane_branch_forecast: road_map must be a RoadMap, got NoneType"
    ):
        lane_branch_forecast(car, None, 3.0, 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"lane_following_forecast: road_map must be a RoadMap"):
        lane_following_forecast(car, None, 3.0, 0.5)  # type: ignore[arg-type]
