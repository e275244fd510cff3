"""nuPlan's ``ego_is_comfortable``: all kinematic signals within fixed bounds.

Thresholds are nuPlan's (``ego_is_comfortable`` config): longitudinal acceleration in
[-4.05, 2.40] m/s^2, |lateral acceleration| <= 4.89 m/s^2, |yaw rate| <= 0.95 rad/s,
|yaw acceleration| <= 1.93 rad/s^2, |longitudinal jerk| <= 4.13 m/s^3, |jerk magnitude|
<= 8.37 m/s^3. Derivatives use a Savitzky-Golay filter (quadratic, ``window`` samples), as
nuPlan's ``approximate_derivatives`` does, along the last axis (so proposals batch).

Two sets of signals: :func:`nuplan_comfort_signals` is the closed-loop metric (nuPlan's
smoothing, below); :func:`comfort_signals` is the cheaper set the planner's proposal scorer
mirrors (raw acceleration, jerk as the 15-sample derivative of it, jerk magnitude as the
hypot of the longitudinal and lateral jerks).

nuplan-devkit sources of the closed-loop signals (checked against them):
``nuplan/planning/metrics/utils/state_extractors.py`` (``approximate_derivatives``,
``extract_ego_acceleration``, ``extract_ego_jerk``, ``extract_ego_yaw_rate``),
``nuplan/planning/metrics/evaluation_metrics/common/ego_yaw_rate.py``,
``ego_yaw_acceleration.py``, ``ego_lat_acceleration.py``, ``ego_lon_acceleration.py``,
``ego_lon_jerk.py``, ``ego_jerk.py`` and ``nuplan/common/actor_state/dynamic_car_state.py``
(``center_acceleration_2d``).
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


# nuplan-devkit nuplan/planning/metrics/utils/state_extractors.py
NUPLAN_ACCEL_WINDOW = 8  # extract_ego_acceleration: savgol_filter(poly 2, window min(8, T))
NUPLAN_JERK_WINDOW = 15  # extract_ego_jerk: approximate_derivatives(poly 2, window min(15, T))
# extract_ego_yaw_rate passes no window to approximate_derivatives, whose default is 5 (its
# own window_length=15 argument is unused): yaw rate poly 2, yaw acceleration (deriv 2) poly 3
NUPLAN_YAW_WINDOW = 5
NUPLAN_DECIMALS = 8  # all round to 8 decimals


def nuplan_smoothed_acceleration(accel_mps2: np.ndarray) -> np.ndarray:
    """nuPlan's ``extract_ego_acceleration``: ``savgol_filter(a, polyorder=2,
    window_length=min(8, T))`` (scipy defaults: ``deriv=0``, ``mode="interp"``, an even window
    allowed), rounded to 8 decimals, along the last axis; unfiltered when ``T < 3`` (nuPlan
    raises there)."""
    n = accel_mps2.shape[-1]
    w = min(NUPLAN_ACCEL_WINDOW, n)
    if w < 3:
        return np.round(np.asarray(accel_mps2, dtype=np.float64), NUPLAN_DECIMALS)
    smooth = savgol_filter(accel_mps2, window_length=w, polyorder=2, axis=-1)
    return np.round(smooth, NUPLAN_DECIMALS)


def nuplan_jerk(smoothed_accel_mps2: np.ndarray, dt_s: float) -> np.ndarray:
    """nuPlan's ``extract_ego_jerk`` of an already smoothed acceleration:
    ``approximate_derivatives`` = ``savgol_filter(a, polyorder=2, window_length=min(15, T),
    deriv=1, delta=dt)``, rounded to 8 decimals; zeros when ``T < 3``."""
    n = smoothed_accel_mps2.shape[-1]
    w = min(NUPLAN_JERK_WINDOW, n)
    if w < 3:
        return np.zeros_like(smoothed_accel_mps2, dtype=np.float64)
    jerk = savgol_filter(smoothed_accel_mps2, w, 2, deriv=1, delta=dt_s, axis=-1)
    return np.round(jerk, NUPLAN_DECIMALS)


def nuplan_yaw_derivative(yaw_rad: np.ndarray, dt_s: float, deriv: int) -> np.ndarray:
    """nuPlan's ``extract_ego_yaw_rate`` of ``(..., T)`` headings: ``approximate_derivatives(
    unwrap(yaw), window_length=min(5, T), poly_order, deriv_order)``, rounded to 8 decimals;
    ``deriv=1`` is the yaw rate (``ego_yaw_rate.py``: poly order 2), ``deriv=2`` the yaw
    acceleration (``ego_yaw_acceleration.py``: ``deriv_order=2, poly_order=3``: the second
    derivative of the heading, not a derivative of a smoothed yaw rate). Zeros where the
    window is not longer than the polynomial order (nuPlan raises there)."""
    poly = 2 if deriv == 1 else 3
    n = yaw_rad.shape[-1]
    w = min(NUPLAN_YAW_WINDOW, n)
    if w <= poly:
        return np.zeros_like(yaw_rad, dtype=np.float64)
    rate = savgol_filter(np.unwrap(yaw_rad, axis=-1), w, poly, deriv=deriv, delta=dt_s, axis=-1)
    return np.round(rate, NUPLAN_DECIMALS)


def nuplan_comfort_signals(
    speed_mps: np.ndarray,
    yaw_rad: np.ndarray,
    accel_mps2: np.ndarray,
    dt_s: float,
    center_offset_m: float = 0.0,
) -> ComfortSignals:
    """nuPlan's ``ego_is_comfortable`` signals from ``(..., T)`` speed, yaw (of the rear axle,
    nuPlan's heading) and longitudinal acceleration (see the module's nuPlan sources):

    - yaw rate and yaw acceleration: :func:`nuplan_yaw_derivative` (5-sample Savitzky-Golay on
      the heading, first and second derivative);
    - lateral acceleration: nuPlan's ``center_acceleration_2d.y``, the rear axle's lateral
      acceleration ``speed * yaw rate`` (what nuPlan's ``build_from_cog`` gives a logged state)
      shifted ``center_offset_m`` forward to the box centre (``get_acceleration_shifted``:
      ``+ center_offset_m * yaw acceleration``), smoothed as nuPlan's ``extract_ego_acceleration``
      (:func:`nuplan_smoothed_acceleration`). nuPlan's closed-loop kinematic bicycle records a
      rear-axle lateral acceleration of 0, keeping only the shift term; drivestack keeps the
      ``speed * yaw rate`` a car in a curve feels. ``center_offset_m`` 0 reads the rear axle;
      :func:`~drivestack.eval.driving.nuplan.nuplan_score` passes the vehicle's;
    - longitudinal acceleration: the recorded (rear-axle) acceleration, smoothed
      (:func:`nuplan_smoothed_acceleration`; nuPlan reads ``center_acceleration_2d.x``, which
      adds ``center_offset_m * yaw rate**2``, at most 0.4 m/s^2 at 0.5 rad/s);
    - longitudinal jerk: the derivative of the smoothed longitudinal acceleration, the jerk
      magnitude that of the smoothed acceleration magnitude ``hypot(lon, speed * yaw rate)``
      (nuPlan's ``acceleration_coordinate="magnitude"``: the rear axle's), both by
      :func:`nuplan_jerk`.
    """
    yaw_rate = nuplan_yaw_derivative(yaw_rad, dt_s, 1)
    yaw_accel = nuplan_yaw_derivative(yaw_rad, dt_s, 2)
    rear_lat = speed_mps * yaw_rate
    lon = nuplan_smoothed_acceleration(accel_mps2)
    lat = nuplan_smoothed_acceleration(rear_lat + center_offset_m * yaw_accel)
    mag = nuplan_smoothed_acceleration(np.hypot(accel_mps2, rear_lat))
    return ComfortSignals(
        lon,
        lat,
        yaw_rate,
        yaw_accel,
        nuplan_jerk(lon, dt_s),
        nuplan_jerk(mag, dt_s),
    )


#: nuPlan's simulation step (s): the sample spacing its comfort filters' windows (in samples)
#: were chosen for.
NUPLAN_DT_S = 0.1


def nuplan_comfort_at_nuplan_rate(
    speed_mps: np.ndarray,
    yaw_rad: np.ndarray,
    accel_mps2: np.ndarray,
    dt_s: float,
    center_offset_m: float = 0.0,
) -> tuple[ComfortSignals, np.ndarray]:
    """:func:`nuplan_comfort_signals` of ``(T,)`` histories sampled every ``dt_s``, resampled
    first to nuPlan's 0.1 s (:data:`NUPLAN_DT_S`; linear interpolation, the heading
    unwrapped) when ``dt_s`` is another step, and the times of the signals' samples from the
    first (s). nuPlan's Savitzky-Golay windows count samples (8, 15 and 5), so at another
    step they would span another time: a stop's longitudinal jerk read 0.54 / 1.52 / 3.62
    m/s^3 at 0.2 / 0.1 / 0.05 s. At 0.1 s the histories are used as they are."""
    n = np.shape(speed_mps)[-1]
    t = np.arange(n) * dt_s
    if n < 2 or abs(dt_s - NUPLAN_DT_S) <= 1e-9:
        signals = nuplan_comfort_signals(speed_mps, yaw_rad, accel_mps2, dt_s, center_offset_m)
        return signals, t
    grid = np.arange(0.0, t[-1] + 1e-9, NUPLAN_DT_S)
    signals = nuplan_comfort_signals(
        np.interp(grid, t, speed_mps),
        np.interp(grid, t, np.unwrap(yaw_rad)),
        np.interp(grid, t, accel_mps2),
        NUPLAN_DT_S,
        center_offset_m,
    )
    return signals, grid


#: nuPlan's comfort bounds: (field of :class:`ComfortSignals`, lowest, highest allowed).
COMFORT_BOUNDS = (
    ("lon_accel_mps2", MIN_LON_ACCEL_MPS2, MAX_LON_ACCEL_MPS2),
    ("lat_accel_mps2", -MAX_ABS_LAT_ACCEL_MPS2, MAX_ABS_LAT_ACCEL_MPS2),
    ("yaw_rate_radps", -MAX_ABS_YAW_RATE_RADPS, MAX_ABS_YAW_RATE_RADPS),
    ("yaw_accel_radps2", -MAX_ABS_YAW_ACCEL_RADPS2, MAX_ABS_YAW_ACCEL_RADPS2),
    ("lon_jerk_mps3", -MAX_ABS_LON_JERK_MPS3, MAX_ABS_LON_JERK_MPS3),
    ("jerk_mag_mps3", -MAX_ABS_JERK_MAG_MPS3, MAX_ABS_JERK_MAG_MPS3),
)


def is_comfortable(signals: ComfortSignals) -> np.ndarray:
    """``(...)`` bool over the last (time) axis: every bound (:data:`COMFORT_BOUNDS`) holds at
    every sample."""
    ok = np.ones(np.shape(signals.lon_accel_mps2), dtype=bool)
    for name, low, high in COMFORT_BOUNDS:
        values = getattr(signals, name)
        ok &= (values >= low) & (values <= high)
    return np.all(ok, axis=-1)
