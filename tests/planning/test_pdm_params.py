"""Planner and forecast settings are checked up front: a ValueError names the parameter and
its value (instead of an IndexError or ZeroDivisionError deep in the array code)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.ingest.maps.synthetic import straight_road
from drivestack.planning.pdm import PDMParams, PDMPlanner
from drivestack.prediction import constant_velocity_forecast, lane_following_forecast
from drivestack.sim.world import Observation
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.ego_state import EgoState


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"horizon_s": 0.0}, r"PDMParams.horizon_s must be .*> 0, got 0.0"),
        ({"horizon_s": -1.0}, r"PDMParams.horizon_s .* got -1.0"),
        ({"horizon_s": math.nan}, r"PDMParams.horizon_s .* got nan"),
        ({"dt_s": 0.0}, r"PDMParams.dt_s .* got 0.0"),
        ({"score_horizon_s": 9.0}, r"score_horizon_s must be at most horizon_s = 8.0, got 9.0"),
        ({"score_horizon_s": 0.0}, r"PDMParams.score_horizon_s .* got 0.0"),
        ({"dt_s": 0.3}, r"horizon_s must be a whole number .* dt_s = 0.3 .* got 8.0"),
        ({"score_horizon_s": 4.05}, r"score_horizon_s must be a whole number .* got 4.05"),
        ({"speed_fractions": ()}, r"PDMParams.speed_fractions .* non-empty .* got \(\)"),
        ({"speed_fractions": (1.0, -0.5)}, r"speed_fractions must be >= 0"),
        ({"lateral_offsets_m": ()}, r"PDMParams.lateral_offsets_m .* got \(\)"),
        ({"lateral_offsets_m": (0.0, math.inf)}, r"lateral_offsets_m\[1\] must be a finite .* inf"),
        (
            {"prediction": "lane_folowing"},
            r"prediction must be one of \['constant_velocity', 'lane_following'\], "
            r"got 'lane_folowing'",
        ),
        ({"entry_lookahead_steps": -1}, r"entry_lookahead_steps must be >= 0, got -1"),
        ({"emergency_decel_mps2": 0.0}, r"emergency_decel_mps2 .* got 0.0"),
        ({"stop_margin_m": -1.0}, r"stop_margin_m .* got -1.0"),
    ],
)
def test_bad_planner_settings_are_named(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PDMParams(**settings)


def test_step_counts_of_valid_settings() -> None:
    p = PDMParams()
    assert (p.n_steps, p.n_score_steps) == (80, 40)  # 8.0 / 0.1 is 80.00000000000001
    short = PDMParams(horizon_s=0.3, dt_s=0.1, score_horizon_s=0.1)  # 2.9999999999999996
    assert (short.n_steps, short.n_score_steps) == (3, 1)
    planner = PDMPlanner(straight_road(), ["road_0"], params=short)
    plan = planner.step(
        Observation(0, EgoState(0, 0.0, 1.75, 0.0, speed_mps=10.0), Boxes3D.empty("world"), ())
    )
    assert len(plan) == 4 and planner.debug is not None and planner.debug.chosen == 0


def test_a_route_needs_a_lane() -> None:
    with pytest.raises(ValueError, match=r"route_lanes: the route needs at least one lane"):
        PDMPlanner(straight_road(), [])


CAR = Boxes3D.from_array7(
    [[0.0, 1.75, 0.75, 4.5, 1.8, 1.5, 0.0]], "world", label=[1], velocity_mps=[[2.0, 0.0]]
)


@pytest.mark.parametrize(
    ("horizon_s", "dt_s", "message"),
    [
        (4.0, 0.0, r"dt_s must be a finite time step > 0 s, got 0.0"),
        (4.0, -0.1, r"dt_s .* got -0.1"),
        (4.0, math.inf, r"dt_s .* got inf"),
        (-1.0, 0.1, r"horizon_s must be a finite duration >= 0 s, got -1.0"),
        (math.nan, 0.1, r"horizon_s .* got nan"),
    ],
)
def test_bad_forecast_settings_are_named(horizon_s: float, dt_s: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        constant_velocity_forecast(CAR, horizon_s, dt_s)
    with pytest.raises(ValueError, match=message):
        lane_following_forecast(CAR, straight_road(), horizon_s, dt_s)


def test_forecast_covers_a_horizon_that_is_not_a_whole_number_of_steps() -> None:
    # 1.0 s in 0.4 s steps: 3 steps (to 1.2 s) so that 1.0 s is covered, not 2 (to 0.8 s)
    f = constant_velocity_forecast(CAR, 1.0, 0.4)
    assert f.n_steps == 3
    np.testing.assert_allclose(f.boxes[0, :, 0], [0.0, 0.8, 1.6, 2.4])
    assert constant_velocity_forecast(CAR, 8.0, 0.1).n_steps == 80  # whole: no extra step
    assert constant_velocity_forecast(CAR, 0.0, 0.1).n_steps == 0  # just the observed state
    assert lane_following_forecast(CAR, straight_road(), 1.0, 0.4).n_steps == 3
    with pytest.raises(ValueError, match=r"min_speed_mps .* got -1.0"):
        lane_following_forecast(CAR, straight_road(), 1.0, 0.1, min_speed_mps=-1.0)
