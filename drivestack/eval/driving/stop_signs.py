"""Stop-sign violations of one run (``no_stop_sign_violation``): the ego's front passing a stop
sign's line without having come to a full stop just before it.

CARLA leaderboard's ``RunningStop`` idea: at every stop line the ego's front passes, it must
have stood still (speed below :data:`~drivestack.planning.stop_signs.FULL_STOP_SPEED_MPS`,
0.1 m/s) close before the line. The rules checked are the map's sign rules that stop traffic
(:attr:`StopSign.stops_traffic <drivestack.structures.road_map.StopSign.stops_traffic>`:
``stop`` and ``all_way_stop``, no ``fallback`` rule; a ``yield`` sign needs no stop). Each
stop of a rule is a *stop segment* across its lane, and a *passing* is the ego's front-bumper
centre crossing it forwards, exactly as for red lights
(:mod:`~drivestack.eval.driving.traffic_lights`: heading along the lane, the crossing point
within the segment). A passing between ticks ``k`` and ``k + 1`` is a *violation* unless the
ego's speed was below 0.1 m/s at a tick of the run of ticks up to ``k`` in which its front lay
within :data:`~drivestack.planning.stop_signs.STOP_WINDOW_M` (3 m) before the line, along the
lane, and within the segment's reach across it (the window CARLA checks is the stop's trigger
volume). So a rolling stop at 2 m/s is a violation; a full stop within 3 m of the line, then
going, is not; neither is a full stop farther back followed by a roll through the window.
One passing is one violation, even where two rules' lines coincide (the first rule, map
order). Only the ego is checked: simulated ``idm`` agents obey stop signs
(:mod:`drivestack.sim.give_way`), others do not, and none is scored here.

It is a pass criterion (``no_stop_sign_violation``, on by default as ``no_red_light_violation``
is: a run that rolls through a stop sign fails).

Fields (``metrics.json`` ``stop_sign``):
  ``violations``     how many (also at the top level, ``stop_sign_violations``)
  ``signs``          how many sign rules of the map stop traffic (0: nothing to violate)
  ``lines_passed``   how many such lines the ego's front passed (stopped at or not)
  ``events``         one per violation: ``tick`` (the first tick past the line), ``time_s``
                     (when the front crossed it, interpolated), ``sign_id``, ``lane_id``,
                     ``speed_mps`` (at the crossing, interpolated), ``slowest_mps`` (the
                     lowest speed at a tick within the window before it; None: no tick there)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from drivestack.eval.driving.history_checks import check_history
from drivestack.eval.driving.traffic_lights import (
    StopSegment,
    front_bumper_m,
    lane_stop_segment,
    segment_crossings,
)
from drivestack.planning.stop_signs import FULL_STOP_SPEED_MPS, STOP_WINDOW_M
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap


@dataclass(frozen=True)
class StopSignViolation:
    """The ego's front passed sign rule ``sign_id``'s line on lane ``lane_id`` between ticks
    ``tick - 1`` and ``tick`` (at ``time_s``) at ``speed_mps`` without a full stop within the
    window before it (``slowest_mps``: its lowest speed at a tick there, None: none)."""

    tick: int
    time_s: float
    sign_id: str
    lane_id: str
    speed_mps: float
    slowest_mps: float | None


@dataclass(frozen=True)
class StopSignResult:
    """The stop-sign violations of a run, how many sign rules of its map stop traffic, and
    how many of their lines the ego's front passed."""

    violations: tuple[StopSignViolation, ...]
    signs: int
    lines_passed: int = 0

    @property
    def count(self) -> int:
        return len(self.violations)

    def as_dict(self) -> dict[str, object]:
        return {
            "violations": self.count,
            "signs": self.signs,
            "lines_passed": self.lines_passed,
            "events": [asdict(v) for v in self.violations],
        }


def sign_segments(road_map: RoadMap) -> list[StopSegment]:
    """The stop segment of every stop of every sign rule of ``road_map`` that stops traffic,
    in rule then stop order (``light_id`` holds the rule's id)."""
    return [
        lane_stop_segment(road_map, sign.sign_id, stop)
        for sign in road_map.stop_signs
        if sign.stops_traffic
        for stop in sign.stops
    ]


def stop_sign_violations(
    history: SimHistory, road_map: RoadMap, window_m: float = STOP_WINDOW_M
) -> StopSignResult:
    """Every stop-sign violation (module doc) of ``history`` on ``road_map``, by tick;
    ``window_m``: how far before the line a full stop counts. ``ValueError`` naming the field
    for a history that cannot be scored
    (:func:`~drivestack.eval.driving.history_checks.check_history`) or a ``window_m`` that is
    not a positive length."""
    check_history(history)
    if not (math.isfinite(window_m) and window_m > 0.0):
        raise ValueError(f"window_m must be a length > 0 m, got {window_m!r}")
    segments = sign_segments(road_map) if len(history.time_s) >= 2 else []
    signs = sum(1 for sign in road_map.stop_signs if sign.stops_traffic)
    if not segments:
        return StopSignResult((), signs)
    front = front_bumper_m(history.ego_boxes)
    yaw = np.asarray(history.ego_boxes, dtype=np.float64).reshape(-1, 7)[:, 6]
    speed = np.asarray(history.ego_speed_mps, dtype=np.float64)
    time_s = np.asarray(history.time_s, dtype=np.float64)
    found: dict[int, StopSignViolation] = {}  # by the first tick past the line
    passed: set[int] = set()
    for seg in segments:
        window = _in_window(seg, front, window_m)
        for k, u in segment_crossings(seg, front, yaw):
            if k + 1 in passed:
                continue  # one passing, one judgement: the first rule's (map order)
            passed.add(k + 1)
            run = _run_ending_at(window, k)
            slowest = float(np.min(speed[run])) if len(run) else None
            if slowest is not None and slowest < FULL_STOP_SPEED_MPS:
                continue
            at_s = float(time_s[k] + u * (time_s[k + 1] - time_s[k]))
            at_mps = float(speed[k] + u * (speed[k + 1] - speed[k]))
            found[k + 1] = StopSignViolation(
                k + 1, at_s, seg.light_id, seg.lane_id, at_mps, slowest
            )
    return StopSignResult(tuple(found[k] for k in sorted(found)), signs, len(passed))


def _in_window(seg: StopSegment, front_m: np.ndarray, window_m: float) -> np.ndarray:
    """``(T,)`` bool: the front-bumper centre ``front_m (T, 2)`` lies at most ``window_m``
    before ``seg``'s line (and not past it) along its lane, within the segment across it."""
    along = np.array([math.cos(seg.heading_rad), math.sin(seg.heading_rad)])
    normal = np.array([-along[1], along[0]])
    rel = front_m - seg.center_m
    d, lateral = rel @ along, rel @ normal
    return (d >= -window_m) & (d <= 0.0) & (lateral >= -seg.right_m) & (lateral <= seg.left_m)


def _run_ending_at(window: np.ndarray, k: int) -> np.ndarray:
    """The ticks of the run of ``window (T,)`` ticks that ends at tick ``k`` (empty when
    ``window[k]`` is false)."""
    start = k
    while start >= 0 and window[start]:
        start -= 1
    return np.arange(start + 1, k + 1)
