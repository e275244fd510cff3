"""Multi-modal forecasts: several weighted futures per agent (for minADE_K / minFDE_K).

:class:`MultiModalForecast` holds ``boxes (A, K, T+1, 7)`` with mode probabilities; agents
with fewer than ``K`` modes have padding modes (``valid`` False, probability 0).
:func:`lane_branch_forecast` gives one mode per successor branch of the agent's lane reachable
within the horizon, plus the constant-velocity mode. The planners keep the single-mode
:class:`~drivestack.prediction.forecast.Forecast`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivestack.prediction.forecast import (
    Forecast,
    check_agents,
    check_lane_arguments,
    constant_velocity_forecast,
    follow_line,
    lane_chains,
    lane_matches,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.road_map import RoadMap

#: Most modes :func:`lane_branch_forecast` gives an agent (the constant-velocity mode included),
#: Argoverse 2's K.
MAX_MODES = 6


@dataclass(frozen=True)
class MultiModalForecast:
    """``K`` futures of each of ``A`` agents at times ``k * dt_s``, ``k = 0..T``.

    Attributes:
        dt_s: the time step (s), finite and > 0.
        boxes: ``(A, K, T+1, 7)`` float ``[x, y, z, l, w, h, yaw]``, finite.
        probability: ``(A, K)`` float mode probabilities in [0, 1]; each agent's sum to 1
            (to 1e-6) over its valid modes; 0 for padding modes.
        valid: ``(A, K)`` bool, which modes are real; every agent has at least one, and mode
            0 is always valid.

    Raises:
        ValueError: shapes disagree, a value is not finite, a probability is outside [0, 1],
            an agent's probabilities do not sum to 1, a padding mode has a probability, or an
            agent's mode 0 is not valid.
    """

    dt_s: float
    boxes: np.ndarray  # (A, K, T+1, 7)
    probability: np.ndarray  # (A, K)
    valid: np.ndarray  # (A, K) bool

    def __post_init__(self) -> None:
        if not (math.isfinite(self.dt_s) and self.dt_s > 0.0):
            raise ValueError(f"MultiModalForecast.dt_s must be finite and > 0, got {self.dt_s!r}")
        b, p, v = self.boxes, self.probability, self.valid
        if b.ndim != 4 or b.shape[3] != 7 or b.shape[1] < 1 or b.shape[2] < 1:
            raise ValueError(f"MultiModalForecast.boxes must be (A, K, T+1, 7), got {b.shape}")
        if p.shape != b.shape[:2] or v.shape != b.shape[:2] or v.dtype != bool:
            raise ValueError(
                f"MultiModalForecast.probability and .valid (bool) must be (A, K) = "
                f"{b.shape[:2]}, got {p.shape} and {v.shape} {v.dtype}"
            )
        if not (np.isfinite(b).all() and np.isfinite(p).all()):
            raise ValueError("MultiModalForecast.boxes or .probability has NaN or inf values")
        if ((p < 0.0) | (p > 1.0)).any() or (p[~v] != 0.0).any():
            raise ValueError(
                "MultiModalForecast.probability must be in [0, 1] and 0 for padding modes"
            )
        if len(p) and not (v[:, 0].all() and np.allclose(p.sum(axis=1), 1.0, atol=1e-6)):
            raise ValueError(
                "MultiModalForecast: every agent's mode 0 must be valid and its mode "
                "probabilities must sum to 1"
            )

    @property
    def n_steps(self) -> int:
        return int(self.boxes.shape[2]) - 1

    @property
    def n_modes(self) -> int:
        return int(self.boxes.shape[1])

    @staticmethod
    def from_forecast(forecast: Forecast) -> MultiModalForecast:
        """A single-mode forecast as ``K = 1`` (probability 1)."""
        n = forecast.boxes.shape[0]
        return MultiModalForecast(
            forecast.dt_s, forecast.boxes[:, None], np.ones((n, 1)), np.ones((n, 1), dtype=bool)
        )

    def most_likely(self) -> np.ndarray:
        """``(A, T+1, 7)``: each agent's most probable mode (ties: the lowest mode index)."""
        best = np.argmax(self.probability, axis=1)
        return self.boxes[np.arange(self.boxes.shape[0]), best]


def lane_branch_forecast(
    agents: Boxes3D,
    road_map: RoadMap,
    horizon_s: float,
    dt_s: float,
    *,
    max_modes: int = MAX_MODES,
    cv_probability: float = 0.2,
    min_speed_mps: float = 1.0,
    max_lane_distance_m: float = 3.0,
    max_heading_error_rad: float = math.pi / 4,
) -> MultiModalForecast:
    """Mode 0 is :func:`constant_velocity_forecast`; a vehicle moving faster than
    ``min_speed_mps`` along its heading, within ``max_lane_distance_m`` of a lane that runs its
    way (``RoadMap.nearest_lane`` with its yaw), also gets one mode per successor branch:
    every chain of successors from its lane (depth first, in ``Lane.successors`` order) until
    the path covers the distance it drives in the horizon, at most ``max_modes - 1`` of them.
    On each branch it drives at constant speed along the centreline, keeping its lateral
    offset, with the centreline's heading, as
    :func:`~drivestack.prediction.forecast.lane_following_forecast` does on the first branch
    (straight on past a dead end; a reversing vehicle backs along its lane, one branch).

    ``max_heading_error_rad``: the crossing-lane problem was first seen on AV2 (cars in an
    intersection matched to lanes 87-89 degrees off their heading); the value is not tuned
    there. On CommonRoad's recorded files (moving vehicles, ``--horizon-s 2``: 290 cases) any
    value from 15 to 60 degrees gives the same FDE@2s of the first branch, 2.343 m, against
    2.416 m with 90 degrees (``nearest_lane``'s own limit); 45 degrees is in the middle.
    ``cv_probability`` is a prior, not fitted to any data.

    Probabilities: with ``n`` branches, ``min(cv_probability, 1 / (n + 2))`` for mode 0 and
    the rest shared equally among the branches, so each branch stays more probable than the
    constant-velocity fallback (with 0.2 and four or more branches, a branch's equal share
    would fall to 0.2 or below, and the most probable mode, which the evaluation's top-mode
    columns score, would be constant velocity exactly where a road branches); 1 for mode 0
    without branches. ``K = max_modes`` (padding modes repeat mode 0, not valid, probability
    0).

    Raises:
        TypeError: ``agents`` is not a ``Boxes3D`` or ``road_map`` not a ``RoadMap``.
        ValueError: the agents are not in the map's frame, ``max_modes < 2``,
            ``cv_probability`` not in (0, 1), ``min_speed_mps`` not a finite speed >= 0,
            ``max_heading_error_rad`` not a finite angle in [0, pi], or the horizon and step
            as ``forecast_steps``.
    """
    check_agents(agents, "lane_branch_forecast")
    check_lane_arguments(
        agents, road_map, "lane_branch_forecast", min_speed_mps, max_heading_error_rad
    )
    if max_modes < 2:
        raise ValueError(f"max_modes must be at least 2, got {max_modes}")
    if not 0.0 < cv_probability < 1.0:
        raise ValueError(f"cv_probability must be in (0, 1), got {cv_probability!r}")
    cv = constant_velocity_forecast(agents, horizon_s, dt_s)
    n, n_t = len(agents), cv.n_steps + 1
    boxes = np.repeat(cv.boxes[:, None], max_modes, axis=1)
    probability = np.zeros((n, max_modes))
    probability[:, 0] = 1.0
    valid = np.zeros((n, max_modes), dtype=bool)
    valid[:, 0] = True
    t = np.arange(n_t) * dt_s
    for match in lane_matches(
        agents, road_map, min_speed_mps=min_speed_mps, max_lane_distance_m=max_lane_distance_m,
        max_heading_error_rad=max_heading_error_rad,
    ):  # fmt: skip
        i = match.index
        lines = lane_chains(road_map, match, float(t[-1]), max_modes - 1)
        for m, line in enumerate(lines, start=1):
            boxes[i, m, :, 0:2], boxes[i, m, :, 6] = follow_line(line, match, t)
        valid[i, 1 : 1 + len(lines)] = True
        cv_share = min(cv_probability, 1.0 / (len(lines) + 2))
        probability[i, 0] = cv_share
        probability[i, 1 : 1 + len(lines)] = (1.0 - cv_share) / len(lines)
    return MultiModalForecast(dt_s, boxes, probability, valid)
