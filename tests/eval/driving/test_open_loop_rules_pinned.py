"""nuPlan open-loop rules no other test pins, on hand-written per-instant errors (samples
k = 1 .. 8 at 1 s; horizons 3, 5, 8 s with miss thresholds 6, 8, 16 m; max miss rate 0.3).

nuplan-devkit (``planner_expert_average_l2_error_within_bound.py``,
``planner_miss_rate_within_bound.py``): per instant and horizon of ``n`` samples, the miss test
reads the *largest* displacement of the first ``n`` samples, the final heading error is the
``n``-th sample's; a drive is within the miss bound when every horizon's miss rate is
``<=`` the maximum.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.open_loop import (
    InstantErrors,
    OpenLoopParams,
    open_loop_result,
)

PARAMS = OpenLoopParams()


def _instant(
    displacement_m: list[float] | None = None, heading_rad: list[float] | None = None
) -> InstantErrors:
    """One instant's errors at the 8 samples (0 where not given)."""
    d = np.zeros(8) if displacement_m is None else np.asarray(displacement_m, dtype=float)
    h = np.zeros(8) if heading_rad is None else np.asarray(heading_rad, dtype=float)
    return InstantErrors(0.0, d, h)


def test_a_miss_is_the_largest_displacement_not_the_final_one() -> None:
    # 10 m off at the first sample only, back on the expert's path by the second
    result = open_loop_result([_instant([10.0, 0, 0, 0, 0, 0, 0, 0])], PARAMS)
    # largest displacement 10 m in every horizon: > 6 (3 s), > 8 (5 s), not > 16 (8 s);
    # the final displacements (all 0) would miss nowhere
    assert [h.miss_rate for h in result.horizons] == [1.0, 1.0, 0.0]
    assert [h.final_l2_m for h in result.horizons] == [0.0, 0.0, 0.0]
    # a horizon at miss rate 1 > 0.3: out of the bound, OLS 0
    assert result.miss_rate_within_bound == 0.0
    assert result.score == 0.0


def test_the_final_heading_error_is_the_horizons_last_sample() -> None:
    heading = [0.5, 0.1, 0.0, 0.0, 0.3, 0.0, 0.0, 0.2]
    result = open_loop_result([_instant(heading_rad=heading)], PARAMS)
    # final: sample 3 (0.0), sample 5 (0.3), sample 8 (0.2); not the largest (0.5 in each)
    assert [h.final_heading_rad for h in result.horizons] == pytest.approx([0.0, 0.3, 0.2])
    # average: (0.5 + 0.1 + 0) / 3 = 0.2, 0.9 / 5 = 0.18, 1.1 / 8 = 0.1375
    assert [h.average_heading_rad for h in result.horizons] == pytest.approx([0.2, 0.18, 0.1375])
    # over the horizons: (0 + 0.3 + 0.2) / 3
    assert result.final_heading_rad == pytest.approx(0.5 / 3)


@pytest.mark.parametrize(("n_missed", "within"), [(3, 1.0), (4, 0.0)])
def test_a_miss_rate_equal_to_the_bound_is_within_it(n_missed: int, within: float) -> None:
    # 10 instants, n_missed of them 20 m off at the first sample (> 16 m: a miss in every
    # horizon): miss rate n_missed / 10 everywhere; 3 / 10 = 0.3 <= 0.3, 4 / 10 > 0.3
    errors = [_instant([20.0, 0, 0, 0, 0, 0, 0, 0]) for _ in range(n_missed)]
    errors += [_instant() for _ in range(10 - n_missed)]
    result = open_loop_result(errors, PARAMS)
    assert [h.miss_rate for h in result.horizons] == pytest.approx([n_missed / 10] * 3)
    assert result.miss_rate_within_bound == within
    assert result.weighted_score is not None and result.weighted_score > 0.0
    assert result.score == pytest.approx(within * result.weighted_score)
