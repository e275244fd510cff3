"""Open-loop metrics on degenerate inputs (a bad-input campaign): a clear ``ValueError``
naming the argument, never a NumPy / Python error or a NaN silently scored."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.open_loop import (
    InstantErrors,
    OpenLoopParams,
    bounded_score,
    instant_errors,
    open_loop_result,
    open_loop_score,
)
from drivestack.eval.driving.open_loop_logs import RecordedMotion, instant_times_s, steering_for
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.trajectory import Trajectory

PARAMS = OpenLoopParams()


def straight(t_s: np.ndarray, speed: float = 5.0) -> Trajectory:
    n = len(t_s)
    return Trajectory(
        np.round(t_s * 1e9).astype(np.int64),
        speed * t_s,
        np.zeros(n),
        np.zeros(n),
        np.full(n, speed),
        np.zeros(n),
        np.zeros(n),
        "city",
    )


EXPERT = straight(np.arange(0.0, 15.01, 0.1))
PLAN = straight(np.arange(0.0, 8.01, 0.1), 5.5)


def test_instant_errors_refuses_a_nan_offset_an_empty_expert_and_an_early_instant() -> None:
    with pytest.raises(ValueError, match="center_offset_m must be a finite number"):
        instant_errors(PLAN, EXPERT, 0.0, PARAMS, float("nan"))  # was NaN displacements
    with pytest.raises(ValueError, match="the expert's drive has no sample"):
        instant_errors(PLAN, straight(np.zeros(0)), 0.0, PARAMS, 1.4)  # was an IndexError
    early = straight(np.arange(-5.0, 8.01, 0.1))
    with pytest.raises(ValueError, match="before the expert's drive starts"):
        instant_errors(early, EXPERT, -5.0, PARAMS, 1.4)  # was compared with a clamped expert
    short = instant_errors(PLAN, straight(np.arange(0.0, 4.01, 0.1)), 0.0, PARAMS, 1.4)
    assert len(short.displacement_m) == 4  # an expert shorter than the plan: its samples


def test_instant_errors_must_be_finite_and_fit() -> None:
    with pytest.raises(ValueError, match=r"InstantErrors\.displacement_m\[2\] is"):
        InstantErrors(0.0, np.array([1.0, 1.0, np.nan]), np.zeros(3))  # was a NaN OLS
    with pytest.raises(ValueError, match=r"two \(K,\) arrays, got \(8,\) and \(3,\)"):
        InstantErrors(0.0, np.ones(8), np.zeros(3))  # was scored silently
    with pytest.raises(ValueError, match=r"InstantErrors\.time_s must be a finite number"):
        InstantErrors(float("nan"), np.ones(8), np.zeros(8))


def test_scores_refuse_nan_and_negative_errors() -> None:
    with pytest.raises(ValueError, match="the mean average_l2 error must be a finite number >= 0"):
        open_loop_result([InstantErrors(0.0, np.full(8, -1.0), np.zeros(8))], PARAMS)
    with pytest.raises(ValueError, match="value must be a finite number >= 0, got nan"):
        bounded_score(float("nan"), 8.0)  # was 0.0, silently
    nan_scores = dict.fromkeys(("average_l2", "final_l2", "average_heading", "final_heading"), 1.0)
    nan_scores["final_l2"] = float("nan")
    with pytest.raises(ValueError, match=r"scores\['final_l2'\] must be a finite number"):
        open_loop_score(nan_scores, 1.0)  # was a NaN OLS


def test_log_helpers_refuse_nan_and_infinite_numbers() -> None:
    for span in (float("nan"), float("inf")):  # were a ValueError / OverflowError from int()
        with pytest.raises(ValueError, match="span_s must be a finite number"):
            instant_times_s(span, PARAMS)
    assert instant_times_s(1.0, PARAMS) == []  # shorter than the first horizon: no instant
    with pytest.raises(ValueError, match="speed_mps must be a finite number"):
        steering_for(float("nan"), 0.1, VehicleParams())  # was NaN
    t = np.arange(0.0, 2.01, 0.1)
    motion = RecordedMotion(t, np.zeros((len(t), 2)), np.zeros(len(t)), *[np.zeros(len(t))] * 3)
    with pytest.raises(ValueError, match="time_s must be a finite number"):
        motion.at(float("nan"))  # was a NaN pose
