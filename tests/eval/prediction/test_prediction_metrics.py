"""ADE, FDE, miss, minADE_K / minFDE_K / brier-minFDE_K by hand (AV2's definitions)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.prediction.metrics import (
    ade,
    best_mode,
    displacement_errors,
    fde,
    is_miss,
    multimodal_metrics,
)

TRUTH = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])  # future steps 1..4


def test_ade_fde_by_hand() -> None:
    # errors 0, 1, 2 and 5 (a 3-4-5 triangle at step 4)
    forecast = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, -2.0], [7.0, 4.0]])
    e = displacement_errors(forecast, TRUTH)
    np.testing.assert_allclose(e, [0.0, 1.0, 2.0, 5.0])
    assert ade(e) == pytest.approx(2.0)  # (0 + 1 + 2 + 5) / 4
    assert ade(e, 2) == pytest.approx(0.5)  # the first two future steps
    assert fde(e) == pytest.approx(5.0)
    assert fde(e, 3) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"n_steps must be in 1\.\.4"):
        ade(e, 0)


def test_miss_is_strictly_beyond_two_metres() -> None:
    assert is_miss(np.array([1.99, 2.0, 2.01])).tolist() == [False, False, True]


def test_multimodal_picks_the_mode_with_the_smallest_final_error() -> None:
    # case 0: mode 0 errors (1, 1, 1, 3), mode 1 (0, 0, 0, 1), mode 2 invalid with 0 error
    errors = np.array([[[1.0, 1.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]])
    prob = np.array([[0.7, 0.3, 0.0]])
    valid = np.array([[True, True, False]])
    m = multimodal_metrics(errors, prob, valid)
    assert best_mode(errors, valid).tolist() == [1]
    assert m["minFDE"][0] == pytest.approx(1.0)
    assert m["minADE"][0] == pytest.approx(0.25)
    assert m["brier_minFDE"][0] == pytest.approx(1.0 + 0.7**2)  # FDE + (1 - 0.3)^2
    assert not m["miss"][0]


def test_min_ade_is_the_ade_of_the_best_endpoint_not_the_smallest_ade() -> None:
    # mode 0: ADE 0.75, FDE 3; mode 1: ADE 2.5, FDE 2.5 -> best endpoint is mode 1
    errors = np.array([[[0.0, 0.0, 0.0, 3.0], [2.5, 2.5, 2.5, 2.5]]])
    m = multimodal_metrics(errors, np.array([[0.5, 0.5]]), np.ones((1, 2), dtype=bool))
    assert m["minFDE"][0] == pytest.approx(2.5)
    assert m["minADE"][0] == pytest.approx(2.5)
    assert m["miss"][0]
    # ties go to the lowest mode index
    tie = np.array([[[1.0, 2.0], [0.0, 2.0]]])
    assert best_mode(tie, np.ones((1, 2), dtype=bool)).tolist() == [0]


def test_equal_final_errors_pick_the_most_probable_mode_as_av2() -> None:
    # the reviewer's case: two identical modes 1 m beside a 10 m/s straight truth, p 0.2 / 0.8:
    # AV2 (modes by descending probability, first smallest FDE) scores the 0.8 mode:
    # brier-minFDE = 1 + (1 - 0.8)^2 = 1.04 (the first index, 0.2, would give 1.64)
    t = np.arange(1, 31)[:, None] * 0.1
    truth = np.hstack([10 * t, 0 * t])
    mode = truth + np.array([0.0, 1.0])
    errors = displacement_errors(np.stack([mode, mode])[None], truth)  # (1, 2, 30)
    valid = np.ones((1, 2), dtype=bool)
    m = multimodal_metrics(errors, np.array([[0.2, 0.8]]), valid)
    assert best_mode(errors, valid, np.array([[0.2, 0.8]])).tolist() == [1]
    assert m["minFDE"][0] == pytest.approx(1.0) and m["minADE"][0] == pytest.approx(1.0)
    assert m["brier_minFDE"][0] == pytest.approx(1.04)
    # a tie in probability too goes to the lowest index; an invalid mode never wins a tie,
    # whatever its probability; a smaller FDE beats a higher probability
    three = np.array([[[1.0, 2.0], [0.0, 2.0], [0.0, 2.0]]])
    p = np.array([[0.3, 0.3, 0.4]])
    assert best_mode(three, np.ones((1, 3), dtype=bool), p).tolist() == [2]
    assert best_mode(three, np.array([[True, True, False]]), p).tolist() == [0]
    lower = np.array([[[0.0, 1.0], [0.0, 2.0]]])
    assert best_mode(lower, valid, np.array([[0.1, 0.9]])).tolist() == [0]


def test_nan_padding_modes_pass_through_with_their_validity() -> None:
    # the documented way to get multimodal_metrics' errors refused the NaN padding that
    # multimodal_metrics says it does not read
    from drivestack.eval.prediction.metrics import displacement_errors, multimodal_metrics

    forecast = np.zeros((1, 2, 3, 2))
    forecast[0, 1] = np.nan  # mode 1: padding
    truth = np.ones((3, 2))
    valid = np.array([[True, False]])
    with pytest.raises(ValueError, match=r"forecast_xy has a NaN .* at index \(0, 1, 0, 0\)"):
        displacement_errors(forecast, truth)
    errors = displacement_errors(forecast, truth, valid)
    assert np.allclose(errors[0, 0], np.sqrt(2.0)) and np.isnan(errors[0, 1]).all()
    metrics = multimodal_metrics(errors, np.array([[1.0, 0.0]]), valid)
    assert metrics["minFDE"][0] == pytest.approx(np.sqrt(2.0))
    forecast[0, 0, 1] = np.nan  # a valid mode's NaN is still refused
    with pytest.raises(ValueError, match=r"index \(0, 0, 1, 0\)"):
        displacement_errors(forecast, truth, valid)
    with pytest.raises(ValueError, match="valid must be a bool mask"):
        displacement_errors(forecast, truth, np.array([True, False]))
