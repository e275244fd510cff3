"""Traffic lights in a run's scenario view (only for a run whose map or history has lights).

The bird's-eye view draws every stop line (the metric's stop segments:
:func:`~drivestack.eval.driving.traffic_lights.stop_segments`) in the colour of its light's
state when the ego's front bumper was nearest to that line (the view is one picture of the
whole run: for a line the ego passed that is the state it passed at, for one it waited at the
state it stopped for), and marks each red light run (``metrics.json`` ``red_light.events``, as
given) where the ego's front crossed the line, with the light's id and the time. The time
plots get a strip per light along the time axis: the state the history recorded at each tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from drivestack.eval.driving.traffic_lights import StopSegment, front_bumper_m, stop_segments
from drivestack.report.fields import finite_number_or_none
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import SIGNAL_STATES

#: Colour of each state (matplotlib colours): a stop line and a time strip.
STATE_COLOURS = {
    "unknown": "0.8",
    "off": "0.45",
    "green": "#2ca02c",
    "yellow": "#e8b900",
    "red": "#d62728",
    "red_yellow": "#ff7f0e",
}
#: Lights given a time strip (those the ego ran first, then the nearest to its path).
MAX_LIGHT_ROWS = 6


@dataclass(frozen=True)
class StopMark:
    """A stop line of light ``light_id`` across lane ``lane_id`` (``ends_m (2, 2)``), with its
    light's state when the ego's front was nearest to it, ``time_s`` from the run's start."""

    light_id: str
    lane_id: str
    ends_m: np.ndarray
    state: str
    time_s: float
    distance_m: float  # the ego's front's nearest approach


@dataclass(frozen=True)
class RedRun:
    """A red light run (one ``red_light.events`` entry): light, lane, time from the run's
    start, where the ego's front crossed the stop line (None when it cannot be placed) and its
    speed there."""

    light_id: str
    lane_id: str
    time_s: float
    point_m: tuple[float, float] | None
    speed_mps: float | None


@dataclass(frozen=True)
class LightView:
    """What the scenario view draws of a run's traffic lights (module doc)."""

    stops: tuple[StopMark, ...]
    rows: tuple[str, ...]  # light ids with a time strip, top to bottom
    codes: np.ndarray  # (T, len(rows)) int8 state codes of those lights
    red_runs: tuple[RedRun, ...]
    hidden: int  # recorded lights without a strip (over MAX_LIGHT_ROWS)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the report's ``detail_lights``)."""
        return {
            "stop_lines": [
                {"light_id": s.light_id, "lane_id": s.lane_id, "state": s.state} for s in self.stops
            ],
            "state_strips": list(self.rows),
            "strips_not_shown": self.hidden,
            "red_runs": [
                {
                    "light_id": r.light_id,
                    "lane_id": r.lane_id,
                    "time_s": r.time_s,
                    "x_m": None if r.point_m is None else r.point_m[0],
                    "y_m": None if r.point_m is None else r.point_m[1],
                    "speed_mps": r.speed_mps,
                }
                for r in self.red_runs
            ],
        }


def _segment_distance_m(points: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distance of each of ``points (T, 2)`` from the segment ``ends (2, 2)``."""
    a, b = ends[0], ends[1]
    ab = b - a
    denom = float(ab @ ab)
    u = np.zeros(len(points)) if denom == 0.0 else np.clip((points - a) @ ab / denom, 0.0, 1.0)
    return np.linalg.norm(points - (a + u[:, None] * ab), axis=1)


def light_view(history: SimHistory, road_map: RoadMap | None, events: object) -> LightView | None:
    """The traffic lights of one run's view, None when neither its map nor its history has a
    light (then the view is drawn as without this module). ``events``: ``metrics.json``'s
    ``red_light.events`` (entries that are not objects with a ``light_id`` are skipped)."""
    map_lights = road_map.traffic_lights if road_map is not None else ()
    if not map_lights and not history.traffic_light_ids:
        return None
    n = len(history)
    t = history.time_s
    t0 = float(t[0]) if n else 0.0
    front = front_bumper_m(history.ego_boxes) if n else np.zeros((0, 2))
    column = {light_id: j for j, light_id in enumerate(history.traffic_light_ids)}
    codes = history.traffic_light_state

    segments = stop_segments(road_map) if road_map is not None else []
    stops = []
    for seg in segments:
        ends = seg.ends_m()
        dist = _segment_distance_m(front, ends) if n else np.array([math.inf])
        k = int(np.argmin(dist))
        j = column.get(seg.light_id)
        state = SIGNAL_STATES[int(codes[k, j])] if j is not None and n else "unknown"
        stops.append(
            StopMark(
                seg.light_id,
                seg.lane_id,
                ends,
                state,
                float(t[k]) - t0 if n else 0.0,
                float(dist[k]),
            )
        )

    red_runs = []
    for e in events if isinstance(events, list) else []:
        if not isinstance(e, dict) or not isinstance(e.get("light_id"), str):
            continue
        light_id, lane_id = e["light_id"], str(e.get("lane_id", ""))
        time_s = finite_number_or_none(e.get("time_s"))
        tick = e.get("tick")
        if not (isinstance(tick, int) and not isinstance(tick, bool) and 0 < tick < n):
            tick = int(np.searchsorted(t, time_s)) if time_s is not None and n else None
            tick = None if tick is None or not 0 < tick < n else tick
        point = None
        if tick is not None:
            point = _crossing(front[tick - 1], front[tick], segments, light_id, lane_id)
        if time_s is None and tick is not None:
            time_s = float(t[tick])
        red_runs.append(
            RedRun(
                light_id,
                lane_id,
                (time_s - t0) if time_s is not None else math.nan,
                point,
                finite_number_or_none(e.get("speed_mps")),
            )
        )

    nearest: dict[str, float] = {}
    for s in stops:
        nearest[s.light_id] = min(nearest.get(s.light_id, math.inf), s.distance_m)
    ran = list(dict.fromkeys(r.light_id for r in red_runs if r.light_id in column))
    rest = sorted(
        (i for i in history.traffic_light_ids if i not in ran),
        key=lambda i: (nearest.get(i, math.inf), column[i]),
    )
    rows = tuple([*ran, *rest][:MAX_LIGHT_ROWS])
    strip = codes[:, [column[i] for i in rows]] if rows else np.zeros((n, 0), dtype=np.int8)
    return LightView(
        tuple(stops), rows, strip, tuple(red_runs), len(history.traffic_light_ids) - len(rows)
    )


def _crossing(
    before: np.ndarray,
    after: np.ndarray,
    segments: list[StopSegment],
    light_id: str,
    lane_id: str,
) -> tuple[float, float]:
    """Where the front's move ``before -> after`` crosses the stop line of ``light_id`` on
    ``lane_id`` (its line through the stop's centre, across the lane); ``after`` when the map
    has no such stop or the move runs along the line."""
    seg = next(
        (s for s in segments if s.light_id == light_id and s.lane_id == lane_id),
        next((s for s in segments if s.light_id == light_id), None),
    )
    if seg is not None:
        along = np.array([math.cos(seg.heading_rad), math.sin(seg.heading_rad)])
        d0, d1 = float((before - seg.center_m) @ along), float((after - seg.center_m) @ along)
        if d1 != d0:
            u = min(max(-d0 / (d1 - d0), 0.0), 1.0)
            p = before + u * (after - before)
            return float(p[0]), float(p[1])
    return float(after[0]), float(after[1])
