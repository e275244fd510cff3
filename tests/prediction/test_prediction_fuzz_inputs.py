"""Bad inputs found by the stages' bad-input campaign: the state estimate and the forecasts
refuse them with a ValueError naming the argument, instead of a NaN yaw rate or a
MemoryError."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.prediction import constant_velocity_forecast, estimate_states
from drivestack.prediction.forecast import MAX_FORECAST_STEPS, forecast_steps
from drivestack.structures.boxes import Boxes3D


def _past(yaw0: float) -> np.ndarray:
    return np.array([[[10, 0, 0, 4, 2, 1.5, yaw0], [11, 0, 0, 4, 2, 1.5, 0.0]]])


def test_a_nan_in_the_past_boxes_is_refused_naming_row_field_and_sample() -> None:
    t = np.array([[0.0, 0.1]])
    with pytest.raises(ValueError, match=r"row 0: field past_boxes: sample 0 is not finite"):
        estimate_states(t, _past(np.nan), np.array([1]), "world")  # was: NaN yaw rate
    ok = estimate_states(t, _past(0.0), np.array([1]), "world")
    assert np.isfinite(ok.yaw_rate_radps).all()


def test_a_forecast_of_too_many_steps_is_refused() -> None:
    assert forecast_steps(MAX_FORECAST_STEPS * 0.1, 0.1) == MAX_FORECAST_STEPS
    agents = Boxes3D.from_array7([[0, 0, 0, 4, 2, 1.5, 0]], "ego", label=[1])
    with pytest.raises(ValueError, match=r"horizon_s / dt_s must be at most 100000 steps"):
        constant_velocity_forecast(agents, 1e9, 0.1)  # was: MemoryError (74.5 GiB)
