"""Forecast rules a mutation review found unguarded, each pinned with a value derived by hand:
lane_branch_forecast stops a successor chain once it covers exactly the distance driven,
lane_following_forecast's default minimum speed of 1 m/s, and
MultiModalForecast.most_likely choosing by probability."""

from __future__ import annotations

import math

import numpy as np

from drivestack.prediction import lane_following_forecast
from drivestack.prediction.multimodal import MultiModalForecast, lane_branch_forecast
from drivestack.structures.boxes import Boxes3D
from tests.prediction.test_multimodal_forecast import FORK


def _car(x: float, y: float, yaw: float, vx: float, vy: float) -> Boxes3D:
    return Boxes3D.from_array7(
        [[x, y, 0.8, 4.5, 1.9, 1.6, yaw]], "world", label=[1], velocity_mps=[[vx, vy]]
    )


def test_a_lane_that_exactly_covers_the_drive_gives_one_branch() -> None:
    """A successor chain stops once its length reaches (>=) the station the agent gets to.

    The car sits at station 20 m on A (50 m long) and drives 10 m/s for 3 s: it needs 20 + 30
    = 50 m, exactly A's length, so A alone is the one branch (no fork into B and C). Modes:
    0 constant velocity, 1 lane A; probabilities min(0.2, 1 / (1 + 2)) = 0.2 and 0.8.
    """
    f = lane_branch_forecast(_car(20.0, 0.0, 0.0, 10.0, 0.0), FORK, 3.0, 0.5)
    assert f.valid.tolist() == [[True, True, False, False, False, False]]
    np.testing.assert_allclose(f.probability, [[0.2, 0.8, 0.0, 0.0, 0.0, 0.0]])
    # the branch ends where A ends: (50, 0)
    np.testing.assert_allclose(f.boxes[0, 1, -1, :2], [50.0, 0.0])


def test_lane_following_ignores_a_vehicle_slower_than_one_metre_per_second() -> None:
    """Default ``min_speed_mps = 1.0``: a car whose speed along its heading is 0.8 m/s moves at
    constant velocity, not along its lane.

    Velocity (0.8, 0.3) with yaw 0 on lane A: along-heading speed 0.8 < 1. Constant velocity
    over 3 s moves it by (2.4, 0.9) to (22.4, 0.9), with speed |(0.8, 0.3)| = sqrt(0.73)
    (a lane follower would end at (22.4, 0) with speed 0.8).
    """
    f = lane_following_forecast(_car(20.0, 0.0, 0.0, 0.8, 0.3), FORK, 3.0, 0.5)
    np.testing.assert_allclose(f.boxes[0, -1, :2], [22.4, 0.9])
    np.testing.assert_allclose(f.speed_mps[0], math.sqrt(0.73))


def _two_mode_forecast(probability: list[float]) -> MultiModalForecast:
    boxes = np.zeros((1, 2, 2, 7))
    boxes[0, 0, 1, 0] = 10.0  # mode 0 ends at x = 10
    boxes[0, 1, 1, 1] = 10.0  # mode 1 ends at y = 10
    return MultiModalForecast(
        0.5, boxes, np.array([probability]), np.array([[True, True]], dtype=bool)
    )


def test_most_likely_is_the_most_probable_mode_not_the_first_valid() -> None:
    """``most_likely`` takes each agent's most probable mode: with probabilities 0.3 and 0.7
    it is mode 1, the one ending at (0, 10)."""
    best = _two_mode_forecast([0.3, 0.7]).most_likely()
    assert best.shape == (1, 2, 7)
    np.testing.assert_array_equal(best[0, -1, :2], [0.0, 10.0])


def test_most_likely_breaks_a_probability_tie_by_the_lowest_mode() -> None:
    """Equal probabilities 0.5 / 0.5: the lowest mode index, mode 0, ending at (10, 0)."""
    best = _two_mode_forecast([0.5, 0.5]).most_likely()
    np.testing.assert_array_equal(best[0, -1, :2], [10.0, 0.0])
