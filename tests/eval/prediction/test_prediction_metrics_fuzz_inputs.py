"""Motion-forecast metrics on degenerate inputs (a bad-input campaign): a clear error naming
the argument (and index), never a NumPy error or a NaN silently scored."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.prediction.metrics import (
    ade,
    displacement_errors,
    fde,
    is_miss,
    multimodal_metrics,
)

ERRORS = np.array([[[1.0, 1.0, 3.0], [0.0, 0.5, 1.0]]])  # (C=1, K=2, T=3)
PROB = np.array([[0.6, 0.4]])
VALID = np.array([[True, True]])


def test_no_mode_or_no_step_is_refused() -> None:
    with pytest.raises(ValueError, match=r"K >= 1 modes and T >= 1 steps, got \(1, 0, 3\)"):
        multimodal_metrics(ERRORS[:, :0], PROB[:, :0], VALID[:, :0])  # was NumPy's argmin
    with pytest.raises(ValueError, match=r"got \(1, 2, 0\)"):
        multimodal_metrics(ERRORS[..., :0], PROB, VALID)  # was an IndexError


def test_probabilities_must_fit_the_modes_and_lie_in_0_1() -> None:
    with pytest.raises(ValueError, match=r"probability must have shape \(C, K\) = \(1, 2\)"):
        multimodal_metrics(ERRORS, np.full((1, 3), 1 / 3), VALID)  # was silently read
    for p in (np.nan, -0.5, 1.5):  # NaN was a NaN brier-minFDE; the others silent
        with pytest.raises(ValueError, match=r"probability of case 0, mode 1 must be in \[0, 1\]"):
            multimodal_metrics(ERRORS, np.array([[0.6, p]]), VALID)
    # not renormalised: a sum other than 1 is scored as given
    out = multimodal_metrics(ERRORS, np.array([[0.6, 0.6]]), VALID)
    assert out["brier_minFDE"][0] == pytest.approx(1.0 + 0.4**2)
    # a padding mode's probability is not read
    out = multimodal_metrics(ERRORS, np.array([[np.nan, 0.4]]), np.array([[False, True]]))
    assert out["minFDE"][0] == 1.0


def test_a_case_without_a_valid_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="case 0 has no valid mode"):
        multimodal_metrics(ERRORS, PROB, np.zeros((1, 2), dtype=bool))  # was mode 0, silently


def test_nan_errors_are_refused_naming_the_index() -> None:
    bad = ERRORS.copy()
    bad[0, 1, 2] = np.nan  # was picked as the best mode (argmin) and a NaN minFDE
    with pytest.raises(
        ValueError, match=r"errors has a NaN or infinite value at index \(0, 1, 2\)"
    ):
        multimodal_metrics(bad, PROB, VALID)
    with pytest.raises(ValueError, match=r"errors has a NaN or infinite value at index \(1,\)"):
        ade(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="final_errors has a NaN"):
        is_miss(np.array([np.nan]))  # was "not a miss"


def test_ground_truth_with_a_gap_and_bad_shapes_are_refused() -> None:
    truth = np.array([[1.0, 0.0], [np.nan, np.nan], [3.0, 0.0]])
    with pytest.raises(ValueError, match=r"truth_xy has a NaN or infinite value at index \(1, 0\)"):
        displacement_errors(np.zeros((3, 2)), truth)
    with pytest.raises(ValueError, match=r"forecast_xy must have shape \(\.\.\., T, 2\)"):
        displacement_errors(np.zeros((3, 1)), np.zeros((3, 1)))  # was an IndexError
    with pytest.raises(ValueError, match=r"forecast_xy \(2, 5, 2\) and truth_xy \(4, 2\)"):
        displacement_errors(np.zeros((2, 5, 2)), np.zeros((4, 2)))


def test_n_steps_must_be_an_integer() -> None:
    with pytest.raises(TypeError, match=r"n_steps must be an integer, got float 2\.5"):
        ade(np.ones(4), 2.5)  # type: ignore[arg-type]  # was a slice TypeError
    with pytest.raises(TypeError, match="n_steps must be an integer, got bool"):
        fde(np.ones(4), True)
    assert fde(np.arange(1.0, 5.0), np.int64(2)) == 2.0
