"""Intelligent Driver Model (Treiber, Hennecke, Helbing 2000), vectorised.

``a = a_max * [1 - (v / v0)^delta - (s* / s)^2]`` with the desired gap
``s* = s0 + v T + v (v - v_lead) / (2 sqrt(a_max b))``. Used by the reactive sim agents,
the IDM baseline planner and the proposal rollouts of the PDM-style planner.

With ``coolness > 0`` it becomes Treiber and Kesting's ACC model (IDM + constant-acceleration
heuristic, "Traffic Flow Dynamics" ch. 11.3.7, leader acceleration taken as 0): where IDM
over-reacts to a small gap that is not closing fast (a cut-in), the CAH acceleration
``a_cah = -(v - v_lead)^2 / (2 s)`` (0 when not closing) tempers it:
``a = (1 - c) a_idm + c (a_cah + b tanh((a_idm - a_cah) / b))`` whenever ``a_idm < a_cah``.

CAH plans to reach the leader's speed just as the gap closes: approaching a slower leader
from afar, the ACC model brakes only ``b`` harder than that and ends far inside IDM's gap
(PDM's proposals closed from 25 m/s to 0.4 s behind a car at 8.3 m/s and hit it when it
braked). :func:`idm_scalar`'s ``keep_gap`` (the leader the ego already follows) has CAH
reach the leader's speed at IDM's gap behind it at that speed, ``s0 + v_lead T``, instead:
``a_cah = -(v - v_lead)^2 / (2 s_cah)`` with ``s_cah = max(s - s0 - max(v_lead, 0) T,
KEEP_GAP_MIN_SHARE s)`` (a reversing leader keeps the standstill gap ``s0``; inside that gap, e.g. just after a cut-in, CAH reaches the speed within
``KEEP_GAP_MIN_SHARE`` of the gap left, still far gentler than IDM for a small speed
difference).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

from drivestack.structures._checks import check_number_fields


@dataclass(frozen=True)
class IDMParams:
    """The model's parameters; the default is plain IDM (``coolness = 0``), as the reactive
    sim agents drive. :class:`ACCParams` has the same fields with the ACC model as default.

    ``TypeError`` / ``ValueError`` naming the field unless every value is a finite number:
    ``min_gap_m`` and ``time_headway_s`` >= 0; ``max_accel_mps2``, ``comfort_decel_mps2``,
    ``exponent`` and ``max_decel_mps2`` > 0; ``coolness`` in ``[0, 1]``.
    """

    min_gap_m: float = 2.0  # s0
    time_headway_s: float = 1.5  # T
    max_accel_mps2: float = 1.5  # a_max
    comfort_decel_mps2: float = 3.0  # b
    exponent: float = 4.0  # delta
    max_decel_mps2: float = 9.0  # the output is clipped to [-max_decel, a_max]
    coolness: float = 0.0  # c: 0 = plain IDM, 0.99 = the ACC model

    def __post_init__(self) -> None:
        check_number_fields(self, ("min_gap_m", "time_headway_s"), at_least=0.0)
        positive = ("max_accel_mps2", "comfort_decel_mps2", "exponent", "max_decel_mps2")
        check_number_fields(self, positive, above=0.0)
        check_number_fields(self, ("coolness",), at_least=0.0, at_most=1.0)

    @property
    def values(self) -> tuple[float, float, float, float, float, float, float]:
        """``(s0, T, a_max, b, delta, max_decel, coolness)`` for :func:`idm_scalar`."""
        return (
            self.min_gap_m,
            self.time_headway_s,
            self.max_accel_mps2,
            self.comfort_decel_mps2,
            self.exponent,
            self.max_decel_mps2,
            self.coolness,
        )


@dataclass(frozen=True)
class ACCParams(IDMParams):
    """:class:`IDMParams` whose default is the ACC model (``coolness = 0.99``): the PDM
    planner's proposals drive with it. One default in every route: ``PDMParams()``,
    ``ACCParams(min_gap_m=3.0)`` and a config mapping ``{"idm": {"min_gap_m": 3.0}}`` all keep
    ``coolness = 0.99``; ``ACCParams(coolness=0.0)`` is plain IDM."""

    coolness: float = 0.99


#: With ``keep_gap`` (:func:`idm_scalar`), the share of the gap left that the ACC model's CAH
#: may use up reaching the leader's speed once the ego is inside IDM's gap behind it.
KEEP_GAP_MIN_SHARE = 0.25


@njit(cache=True)
def idm_scalar(
    speed: float,
    desired_speed: float,
    gap: float,
    leader_speed: float,
    values: tuple,
    keep_gap: bool,
) -> float:
    """Scalar IDM acceleration (see :func:`idm_acceleration`); ``values`` from ``IDMParams.values``.
    ``keep_gap`` (read only with ``coolness > 0``): the ACC model's CAH keeps IDM's gap at the
    leader's speed (the module docstring); False: Treiber and Kesting's CAH."""
    s0, headway, a_max, b, delta, max_decel, coolness = values
    v0 = max(desired_speed, 1e-3)
    s_star = s0 + max(
        0.0, speed * headway + speed * (speed - leader_speed) / (2.0 * math.sqrt(a_max * b))
    )
    accel = a_max * (1.0 - min(speed / v0, 10.0) ** delta)
    if math.isfinite(gap):
        s = max(gap, 0.01)
        accel -= a_max * (s_star / s) ** 2
        if coolness > 0.0:
            closing = speed - leader_speed
            s_cah = s
            if keep_gap:
                s_cah = max(s - s0 - max(leader_speed, 0.0) * headway, KEEP_GAP_MIN_SHARE * s)
            cah = -closing * closing / (2.0 * s_cah) if closing > 0.0 else 0.0
            if accel < cah:
                accel = (1.0 - coolness) * accel + coolness * (
                    cah + b * math.tanh((accel - cah) / b)
                )
    return min(max(accel, -max_decel), a_max)


def idm_acceleration(
    speed_mps: npt.ArrayLike,
    desired_speed_mps: npt.ArrayLike,
    gap_m: npt.ArrayLike,
    leader_speed_mps: npt.ArrayLike,
    params: IDMParams,
) -> np.ndarray:
    """IDM acceleration, broadcast over all inputs. ``gap_m = inf`` means a free road.

    ``desired_speed_mps`` of 0 asks to stop (full braking term). Gaps at or below 1 cm are
    treated as 1 cm (the interaction term is then maximal and clipped).
    """
    args = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=np.float64)
            for x in (speed_mps, desired_speed_mps, gap_m, leader_speed_mps)
        )
    )
    flat = [np.ascontiguousarray(x).reshape(-1) for x in args]
    batch: Any = _idm_batch  # a numba dispatcher
    return np.asarray(batch(*flat, params.values)).reshape(args[0].shape)


@njit(cache=True)
def _idm_batch(v, v0, gap, lead, values):
    out = np.empty(v.shape[0])
    for i in range(v.shape[0]):
        out[i] = idm_scalar(v[i], v0[i], gap[i], lead[i], values, False)
    return out


def idm_equilibrium_gap_m(speed_mps: float, desired_speed_mps: float, params: IDMParams) -> float:
    """Gap at which following a leader at the same ``speed_mps`` gives zero acceleration."""
    free = 1.0 - (speed_mps / desired_speed_mps) ** params.exponent
    return (params.min_gap_m + speed_mps * params.time_headway_s) / float(np.sqrt(free))
