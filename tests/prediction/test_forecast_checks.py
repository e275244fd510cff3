"""Forecast validates its shapes and step (walkthrough item 11)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.prediction.forecast import Forecast, constant_velocity_forecast
from drivestack.structures.boxes import Boxes3D


def _ok(a: int = 2, t: int = 3) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.zeros((a, t + 1, 7))
    boxes[..., 3:6] = 1.0
    return boxes, np.zeros((a, t + 1))


def test_a_valid_forecast():
    boxes, speed = _ok()
    f = Forecast(0.1, boxes, speed)
    assert f.n_steps == 3
    assert Forecast(0.1, np.zeros((0, 4, 7)), np.zeros((0, 4))).n_steps == 3


@pytest.mark.parametrize("dt", [0.0, -0.1, float("nan"), float("inf")])
def test_dt_must_be_positive_and_finite(dt):
    boxes, speed = _ok()
    with pytest.raises(ValueError, match=r"Forecast.dt_s must be a finite time step > 0 s"):
        Forecast(dt, boxes, speed)


def test_walkthrough_case_and_shapes():
    with pytest.raises(ValueError, match=r"Forecast.dt_s"):
        Forecast(-0.1, np.zeros(3), np.zeros((5, 5)))
    with pytest.raises(
        ValueError, match=r"Forecast.boxes must have shape \(A, T\+1, 7\), got \(3,\)"
    ):
        Forecast(0.1, np.zeros(3), np.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"got \(2, 4, 6\)"):
        Forecast(0.1, np.zeros((2, 4, 6)), np.zeros((2, 4)))
    boxes, _ = _ok()
    with pytest.raises(
        ValueError, match=r"speed_mps must have shape \(A, T\+1\) = \(2, 4\).*got \(2, 3\)"
    ):
        Forecast(0.1, boxes, np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"Forecast\.boxes must be a NumPy array, got list"):
        Forecast(0.1, boxes.tolist(), np.zeros((2, 4)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Forecast\.dt_s must be a number"):
        Forecast("0.1", *_ok())  # type: ignore[arg-type]


def test_values_must_be_finite_and_sizes_non_negative():
    boxes, speed = _ok()
    speed[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        Forecast(0.1, boxes, speed)
    boxes, speed = _ok()
    boxes[0, 0, 4] = -1.0
    with pytest.raises(ValueError, match="negative sizes"):
        Forecast(0.1, boxes, speed)


def test_constant_velocity_speed_is_a_magnitude():
    agents = Boxes3D.from_array7(
        [[0, 0, 0, 4, 2, 1.5, 0.0]], "world", 0, label=[1], velocity_mps=[[-3.0, -4.0]]
    )
    f = constant_velocity_forecast(agents, 1.0, 0.5)
    assert f.speed_mps.tolist() == [[5.0, 5.0, 5.0]]  # >= 0 although moving against its yaw


def test_a_float16_forecast_is_refused_not_rounded() -> None:
    """Was: any float kind passed, float16 rounding positions 100 m out to 6 cm steps."""
    boxes = np.zeros((1, 2, 7), dtype=np.float16)
    with pytest.raises(
        ValueError, match=r"Forecast\.boxes must be float32 or float64, got float16"
    ):
        Forecast(0.1, boxes, np.zeros((1, 2)))
    assert Forecast(0.1, boxes.astype(np.float32), np.zeros((1, 2), np.float32)).n_steps == 1


def test_structures_name_a_tensor_that_needs_grad() -> None:
    torch = pytest.importorskip("torch")
    from drivestack.structures import Boxes3D

    centre = torch.zeros((1, 3), dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=r"Boxes3D\.center_m must be a numeric array .*detach"):
        Boxes3D(centre, np.ones((1, 3)), np.zeros(1), "ego", 0)
