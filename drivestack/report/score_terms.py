"""Why a run lost points: the nuPlan sub-scores of its ``metrics.json`` that are below 1, in
words (``TTC 0.50 s < 0.95 s (-31.2 points)``), each with what it cost.

nuPlan's score is ``multipliers x weighted average`` (:func:`~drivestack.eval.driving.nuplan.
nuplan_score`): a multiplier below 1 scales the whole score (``score x0``, ``x0.5``); a weighted
sub-score ``v`` below 1 costs ``100 x M x w / sum(w) x (1 - v)`` points, ``M`` the product of
the multipliers (a run whose multipliers make it 0 loses nothing more to them: its weighted
terms are listed without points). :func:`score_terms` reads the row's sub-scores
(:attr:`~drivestack.report.collect.ScenarioRow.nuplan`); :func:`comfort_breach` says, from a
run's history, which of nuPlan's comfort bounds it broke (the sub-score is only 0 or 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from drivestack.eval.driving import comfort
from drivestack.eval.driving.nuplan import (
    DRIVABLE_TOLERANCE_M,
    MAKING_PROGRESS_RATIO,
    TTC_BOUND_S,
    WEIGHTS,
)
from drivestack.sim.runner import SimHistory

#: The multipliers, as metrics.json names them.
MULTIPLIERS = (
    "no_at_fault_collisions",
    "drivable_area_compliance",
    "driving_direction_compliance",
    "making_progress",
)
#: The weighted sub-scores, as metrics.json names them -> their key in ``WEIGHTS``.
WEIGHTED = {
    "progress": "progress",
    "ttc_within_bound": "ttc",
    "speed_limit_compliance": "speed_limit",
    "comfort": "comfort",
}


def score_terms(
    nuplan: dict[str, float],
    at_fault_with: tuple[str, ...] | list[str] = (),
    comfort_detail: str | None = None,
) -> list[dict[str, Any]]:
    """The sub-scores below 1 of a run's ``nuplan`` (metrics.json's block, with
    ``expert_progress_m`` when recorded), multipliers first: ``[{metric, value, kind
    ("multiplier" | "weighted"), factor (multipliers: the score's factor), points (weighted:
    points of 0-100 lost, None when the multipliers already make the score 0), text}]``;
    ``at_fault_with``: who the ego hit at fault (``lead (stopped_track)``), for the collision's
    words; ``comfort_detail``: which comfort bound it broke (:func:`comfort_breach`), when
    known. ``[]`` for a run without sub-scores (crashed, older records).

    >>> [t["text"] for t in score_terms({"ttc_within_bound": 0.0, "min_ttc_s": 0.5,
    ...     "comfort": 0.0, "progress": 1.0})]
    ['TTC 0.50 s < 0.95 s (-31.2 points)', 'not comfortable (-12.5 points)']
    """
    terms: list[dict[str, Any]] = []
    factor = 1.0
    for metric in MULTIPLIERS:
        value = nuplan.get(metric)
        if value is None or value >= 1.0:
            continue
        factor *= value
        text = f"{_multiplier_words(metric, value, nuplan, at_fault_with)} (score x{value:g})"
        terms.append(
            {"metric": metric, "value": value, "kind": "multiplier", "factor": value, "text": text}
        )
    total = sum(WEIGHTS.values())
    for metric, weight_key in WEIGHTED.items():
        value = nuplan.get(metric)
        if value is None or value >= 1.0:
            continue
        points = 100.0 * factor * WEIGHTS[weight_key] / total * (1.0 - value)
        words = _weighted_words(metric, value, nuplan)
        if metric == "comfort" and comfort_detail:
            words = f"{words}: {comfort_detail}"
        text = f"{words} (-{points:.1f} points)" if factor > 0 else words
        terms.append(
            {
                "metric": metric,
                "value": value,
                "kind": "weighted",
                "points": points if factor > 0 else None,
                "text": text,
            }
        )
    return terms


def _multiplier_words(
    metric: str, value: float, nuplan: dict[str, float], at_fault_with: tuple[str, ...] | list[str]
) -> str:
    if metric == "no_at_fault_collisions":
        whom = f" with {', '.join(at_fault_with)}" if at_fault_with else ""
        static = " (a static object)" if value > 0 else ""
        return f"at-fault collision{whom}{static}"
    if metric == "drivable_area_compliance":
        outside = nuplan.get("max_outside_drivable_m")
        by = f" by {outside:.2f} m > {DRIVABLE_TOLERANCE_M:g} m" if outside is not None else ""
        return f"left the drivable area{by}"
    if metric == "driving_direction_compliance":
        return "drove against the lane's direction"
    ratio = nuplan.get("progress")
    of = f" {ratio:.0%} of the expert's" if ratio is not None else ""
    return f"not making progress:{of} < {MAKING_PROGRESS_RATIO:.0%}"


def _weighted_words(metric: str, value: float, nuplan: dict[str, float]) -> str:
    if metric == "ttc_within_bound":
        ttc = nuplan.get("min_ttc_s")
        return f"TTC {ttc:.2f} s < {TTC_BOUND_S:g} s" if ttc is not None else "TTC too short"
    if metric == "progress":
        done, expert = nuplan.get("progress_m"), nuplan.get("expert_progress_m")
        if done is not None and expert is not None:
            return f"progress {done:.1f} m of the expert's {expert:.1f} m ({value:.0%})"
        return f"progress {value:.0%} of the expert's"
    if metric == "speed_limit_compliance":
        return f"over the speed limit (compliance {value:.2f})"
    return "not comfortable"


#: How the report names nuPlan's comfort signals (:data:`~drivestack.eval.driving.comfort.
#: COMFORT_BOUNDS`): field -> (words, unit).
_COMFORT_WORDS = {
    "lon_accel_mps2": ("longitudinal acceleration", "m/s²"),
    "lat_accel_mps2": ("lateral acceleration", "m/s²"),
    "yaw_rate_radps": ("yaw rate", "rad/s"),
    "yaw_accel_radps2": ("yaw acceleration", "rad/s²"),
    "lon_jerk_mps3": ("longitudinal jerk", "m/s³"),
    "jerk_mag_mps3": ("jerk", "m/s³"),
}


def comfort_breach(history: SimHistory) -> str | None:
    """The comfort bound ``history`` broke furthest (relative to the bound), as nuPlan's
    closed-loop comfort signals (:func:`~drivestack.eval.driving.comfort.nuplan_comfort_signals`)
    give it (at nuPlan's 0.1 s step, :func:`~drivestack.eval.driving.comfort.
    nuplan_comfort_at_nuplan_rate`): ``longitudinal jerk -6.20 m/s³ outside [-4.13, 4.13] at 2.3 s (and 1 more
    bound)``; None when every bound holds. The history's vehicle stands in for the run's
    (a loaded ``history.npz`` has the default vehicle: the lateral signals may differ a
    little from the run's own)."""
    if len(history) < 2:
        return None
    signals, t = comfort.nuplan_comfort_at_nuplan_rate(
        history.ego_speed_mps,
        history.ego_yaw_rad,
        history.ego_accel_mps2,
        history.dt_s,
        center_offset_m=history.vehicle.center_offset_m,
    )
    worst: tuple[float, str] | None = None
    broken = 0
    for name, low, high in comfort.COMFORT_BOUNDS:
        words, unit = _COMFORT_WORDS[name]
        values = np.asarray(getattr(signals, name), dtype=np.float64)
        over = np.maximum(values - high, low - values) / max(abs(low), abs(high))
        over = np.where(np.isfinite(over), over, -np.inf)
        k = int(np.argmax(over))
        if over[k] <= 0.0:
            continue
        broken += 1
        text = f"{words} {values[k]:.2f} {unit} outside [{low:g}, {high:g}] at {t[k]:.1f} s"
        if worst is None or over[k] > worst[0]:
            worst = (float(over[k]), text)
    if worst is None:
        return None
    more = f" (and {broken - 1} more bound{'s' if broken > 2 else ''})" if broken > 1 else ""
    return worst[1] + more
