"""nuPlan's ``ego_is_comfortable``: all kinematic signals within fixed bounds.

Thresholds are nuPlan's (``ego_is_comfortable`` config): longitudinal acceleration in
[-4.05, 2.40] m/s^2, |lateral acceleration| <= 4.89 m/s^2, |yaw rate| <= 0.95 rad/s,
|yaw acceleration| <= 1.93 rad/s^2, |longitudinal jerk| <= 4.13 m/s^3, |jerk magnitude|
<= 8.37 m/s^3. Derivatives use a Savitzky-Golay filter (quadratic, ``window`` samples), as
nuPlan's ``approximate_derivatives`` does, along the last axis (so proposals batch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import savgol_filter

MIN_LON_ACCEL_MPS2 = -4.05
MAX_LON_ACCEL_MPS2 = 2.40
MAX_ABS_LAT_ACCEL_MPS2 = 4.89
MAX_ABS_YAW_RATE_RADPS = 0.95
MAX_ABS_YAW_ACCEL_RADPS2 = 1.93
MAX_ABS_LON_JERK_MPS3 = 4.13
MAX_ABS_JERK_MAG_MPS3 = 8.37


def derivative(
    values: np.ndarray, dt_s: float, window: int = 15, mode: str = "interp"
) -> np.ndarray:
    """First time derivative along the last axis (Savitzky-Golay, order 2; plain gradient when short).

    ``mode="interp"`` (nuPlan's) fits the ends with polynomials; ``"nearest"`` pads them and
    is several times cheaper (the planner's choice).
    """
    n = values.shape[-1]
    w = min(window, n if n % 2 == 1 else n - 1)
    if w < 3:
        return np.gradient(values, dt_s, axis=-1) if n > 1 else np.zeros_like(values)
    return savgol_filter(values, w, min(2, w - 1), deriv=1, delta=dt_s, axis=-1, mode=mode)


@dataclass(frozen=True)
class ComfortSignals:
    lon_accel_mps2: np.ndarray
    lat_accel_mps2: np.ndarray
    yaw_rate_radps: np.ndarray
    yaw_accel_radps2: np.ndarray
    lon_jerk_mps3: np.ndarray
    jerk_mag_mps3: np.ndarray


def comfort_signals(
    speed_mps: np.ndarray,
    yaw_rad: np.ndarray,
    accel_mps2: np.ndarray,
    dt_s: float,
    mode: str = "interp",
) -> ComfortSignals:
    """Signals from ``(..., T)`` speed, yaw and longitudinal acceleration."""
    yaw_rate = derivative(np.unwrap(yaw_rad, axis=-1), dt_s, mode=mode)
    lat = speed_mps * yaw_rate
    lon_jerk = derivative(accel_mps2, dt_s, mode=mode)
    lat_jerk = derivative(lat, dt_s, mode=mode)
    return ComfortSignals(
        accel_mps2,
        lat,
        yaw_rate,
        derivative(yaw_rate, dt_s, mode=mode),
        lon_jerk,
        np.hypot(lon_jerk, lat_jerk),
    )


def is_comfortable(signals: ComfortSignals) -> np.ndarray:
    """``(...)`` bool over the last (time) axis: every bound holds at every sample."""
    s = signals
    ok = (s.lon_accel_mps2 >= MIN_LON_ACCEL_MPS2) & (s.lon_accel_mps2 <= MAX_LON_ACCEL_MPS2)
    ok &= np.abs(s.lat_accel_mps2) <= MAX_ABS_LAT_ACCEL_MPS2
    ok &= np.abs(s.yaw_rate_radps) <= MAX_ABS_YAW_RATE_RADPS
    ok &= np.abs(s.yaw_accel_radps2) <= MAX_ABS_YAW_ACCEL_RADPS2
    ok &= np.abs(s.lon_jerk_mps3) <= MAX_ABS_LON_JERK_MPS3
    ok &= np.abs(s.jerk_mag_mps3) <= MAX_ABS_JERK_MAG_MPS3
    return np.all(ok, axis=-1)
