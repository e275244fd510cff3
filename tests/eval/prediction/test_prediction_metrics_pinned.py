"""Prediction-eval rules a mutation review found unguarded, each pinned with a value derived
by hand: a valid mode may have probability 0, an agent's times must strictly increase, its
class is that of its first row in time, and a case is "moving" from 1 m (inclusive) measured
from the labelled centre at the anchor when there is one."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.eval.prediction.cases import Cases
from drivestack.eval.prediction.metrics import multimodal_metrics
from drivestack.eval.prediction.trajectories import (
    AgentTrajectory,
    TrajectorySet,
    trajectories_from_rows,
)
from drivestack.structures.labels import ObjectClass


def test_a_valid_mode_with_probability_zero_is_scored() -> None:
    """Probabilities are checked to lie in the closed interval [0, 1]: 0 is allowed.

    Mode 0 (p = 1) ends 3 m off, mode 1 (p = 0) ends 1 m off, so mode 1 is best:
    minFDE 1, minADE (0.5 + 1) / 2 = 0.75, brier-minFDE 1 + (1 - 0)^2 = 2, no miss (1 <= 2).
    """
    errors = np.array([[[2.0, 3.0], [0.5, 1.0]]])
    got = multimodal_metrics(errors, np.array([[1.0, 0.0]]), np.array([[True, True]]))
    assert got["minFDE"].tolist() == [1.0]
    assert got["minADE"].tolist() == [0.75]
    assert got["brier_minFDE"].tolist() == [2.0]
    assert got["miss"].tolist() == [False]


def _agent(times: list[float]) -> AgentTrajectory:
    boxes = np.zeros((len(times), 7))
    boxes[:, 3:6] = [4.5, 1.9, 1.6]
    return AgentTrajectory("a", ObjectClass.CAR, np.asarray(times), boxes, "world", "x.csv")


def test_an_agent_with_two_observations_at_one_time_is_refused() -> None:
    """Times must strictly increase: 0.0, 0.1, 0.1 repeats 0.1 s (a step of 0), a DataError
    on field ``time``."""
    _agent([0.0, 0.1, 0.2])  # strictly increasing: accepted
    with pytest.raises(DataError, match="times must increase") as err:
        _agent([0.0, 0.1, 0.1])
    assert err.value.field == "time"


def test_an_agents_class_is_that_of_its_first_row_in_time() -> None:
    """Rows in any order: the agent's class is the label of its earliest row.

    Rows at t = 0.2 (pedestrian), 0.0 (car), 0.1 (cyclist): the earliest, t = 0.0, is a car;
    the times come back sorted.
    """
    boxes = np.zeros((3, 7))
    labels = np.array([int(ObjectClass.PEDESTRIAN), int(ObjectClass.CAR), int(ObjectClass.CYCLIST)])
    (agent,) = trajectories_from_rows(
        np.array(["a", "a", "a"]), np.array([0.2, 0.0, 0.1]), boxes, labels, "world", "x.csv"
    )
    assert agent.object_class == ObjectClass.CAR
    assert agent.time_s.tolist() == [0.0, 0.1, 0.2]


def _cases(
    past_end_xy: list[list[float]],
    future_end_xy: list[list[float]],
    truth_anchor_xy: np.ndarray | None = None,
) -> Cases:
    n = len(past_end_xy)
    past = np.zeros((n, 2, 7))
    past[:, -1, :2] = past_end_xy
    future = np.zeros((n, 3, 7))
    future[:, -1, :2] = future_end_xy
    recording = TrajectorySet("syn", "x.csv", "world", 0.1, "recorded", "test", ())
    return Cases(
        recording,
        np.array([str(i) for i in range(n)]),
        np.full(n, int(ObjectClass.CAR)),
        np.array(["vehicle"] * n),
        np.zeros((n, 2)),
        past,
        np.zeros((n, 3)),
        future,
        {},
        truth_anchor_xy=truth_anchor_xy,
    )


def test_a_case_is_moving_from_one_metre_inclusive() -> None:
    """``moving``: the true centre ends >= 1 m (xy) from where it is at the anchor.

    From (0, 0) to (0.99, 0): 0.99 m, not moving; to (1, 0): exactly 1 m, moving; to
    (0, 1.2): 1.2 m, moving; from (3, 4) to (0, 0): 5 m, moving; from (3, 4) to (3, 4.5):
    0.5 m, not moving.
    """
    cases = _cases(
        [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3.0, 4.0], [3.0, 4.0]],
        [[0.99, 0.0], [1.0, 0.0], [0.0, 1.2], [0.0, 0.0], [3.0, 4.5]],
    )
    assert cases.moving.tolist() == [False, True, True, True, False]


def test_moving_is_measured_from_the_labelled_centre_at_the_anchor() -> None:
    """With ``truth_anchor_xy`` (tracker pasts) the displacement starts there, not at the
    past's last centre.

    Past ends at (0, 0), the label is at (5, 0) at the anchor and at (5.5, 0) at the end:
    0.5 m from the label, not moving (5.5 m from the past's end would be). A second case with
    the label at (0, 0) ending at (0, 2): 2 m, moving.
    """
    cases = _cases(
        [[0.0, 0.0], [0.0, 0.0]],
        [[5.5, 0.0], [0.0, 2.0]],
        truth_anchor_xy=np.array([[5.0, 0.0], [0.0, 0.0]]),
    )
    assert cases.moving.tolist() == [False, True]
