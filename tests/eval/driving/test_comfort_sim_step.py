"""nuPlan's comfort signals are read at its 0.1 s step whatever the run's step: its
Savitzky-Golay windows count samples (8, 15, 5), so on a 0.05 s history they spanned half
the time and a stop's jerk doubled (a reviewer measured 0.54 / 1.52 / 3.62 m/s^3 at
0.2 / 0.1 / 0.05 s for one manoeuvre)."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.driving.comfort import (
    nuplan_comfort_at_nuplan_rate,
    nuplan_comfort_signals,
)


def _stop(dt_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 12 s drive: 3 s at 14 m/s, a brake that ramps to -3 m/s^2 over 1 s and holds, with a
    slow turn of 0.05 rad/s, sampled every ``dt_s`` (exactly, from the same formulas)."""
    t = np.arange(0.0, 12.0 + 1e-9, dt_s)
    accel = -3.0 * np.clip(t - 3.0, 0.0, 1.0)
    speed = np.maximum(14.0 + np.cumsum(accel) * dt_s, 0.0)
    accel = np.where(speed > 0.0, accel, 0.0)
    return speed, 0.05 * t, accel


@pytest.mark.parametrize("dt_s", [0.05, 0.2, 0.04])
def test_a_stop_reads_the_same_jerk_at_any_sim_step(dt_s: float) -> None:
    reference, _ = nuplan_comfort_at_nuplan_rate(*_stop(0.1), 0.1)
    signals, t = nuplan_comfort_at_nuplan_rate(*_stop(dt_s), dt_s)
    assert np.allclose(np.diff(t), 0.1)
    peak = np.max(np.abs(reference.lon_jerk_mps3))
    assert np.max(np.abs(signals.lon_jerk_mps3)) == pytest.approx(peak, rel=0.1)
    assert np.min(signals.lon_accel_mps2) == pytest.approx(
        np.min(reference.lon_accel_mps2), abs=0.2
    )
    # the raw windows at this step read another jerk (what the metric used to see)
    raw = nuplan_comfort_signals(*_stop(dt_s), dt_s)
    assert abs(np.max(np.abs(raw.lon_jerk_mps3)) / peak - 1.0) > 0.25


def test_at_nuplans_step_the_history_is_used_as_it_is() -> None:
    speed, yaw, accel = _stop(0.1)
    signals, t = nuplan_comfort_at_nuplan_rate(speed, yaw, accel, 0.1, center_offset_m=1.4)
    direct = nuplan_comfort_signals(speed, yaw, accel, 0.1, center_offset_m=1.4)
    assert np.array_equal(t, np.arange(len(speed)) * 0.1)
    for name in ("lon_accel_mps2", "lat_accel_mps2", "yaw_accel_radps2", "jerk_mag_mps3"):
        assert np.array_equal(getattr(signals, name), getattr(direct, name))
