"""Motion-forecasting metrics as Argoverse 2 defines them (av2-api
``av2/datasets/motion_forecasting/eval/metrics.py`` and its leaderboard), on centre xy in
metres:

- displacement error at a future step: the xy distance between forecast and true centre;
- ADE: the mean displacement error over the future steps ``1..n`` (index 0, "now", is not
  a future step), ADE@t over the steps up to ``t``;
- FDE: the displacement error at the last step, FDE@t at step ``t``;
- miss: FDE strictly greater than :data:`MISS_THRESHOLD_M` (2 m);
- with ``K`` modes: the best mode is the one with the smallest FDE (ties: the lowest mode
  index); minFDE_K is its FDE, minADE_K its ADE (AV2's leaderboard: "the best here refers to
  the trajectory that has the minimum endpoint error"), miss_K its miss, and
  brier-minFDE_K its FDE plus ``(1 - p)^2`` with ``p`` its probability.
"""

from __future__ import annotations

import numpy as np

#: AV2's miss threshold (m): a forecast whose final displacement is more than this misses.
MISS_THRESHOLD_M = 2.0


def displacement_errors(forecast_xy: np.ndarray, truth_xy: np.ndarray) -> np.ndarray:
    """``(..., T)`` xy distances between ``(..., T, 2)`` forecasts and ``(T, 2)`` or
    broadcastable ``(..., T, 2)`` true centres (future steps only)."""
    d = forecast_xy - truth_xy
    return np.hypot(d[..., 0], d[..., 1])


def ade(errors: np.ndarray, n_steps: int | None = None) -> np.ndarray:
    """``(...)`` mean of ``(..., T)`` displacement errors over the first ``n_steps`` future
    steps (all ``T`` by default)."""
    n = errors.shape[-1] if n_steps is None else n_steps
    if not 1 <= n <= errors.shape[-1]:
        raise ValueError(f"n_steps must be in 1..{errors.shape[-1]}, got {n}")
    return errors[..., :n].mean(axis=-1)


def fde(errors: np.ndarray, n_steps: int | None = None) -> np.ndarray:
    """``(...)`` displacement error at future step ``n_steps`` (1-based; the last by default)."""
    n = errors.shape[-1] if n_steps is None else n_steps
    if not 1 <= n <= errors.shape[-1]:
        raise ValueError(f"n_steps must be in 1..{errors.shape[-1]}, got {n}")
    return errors[..., n - 1]


def is_miss(final_errors: np.ndarray) -> np.ndarray:
    """Bool: final displacement strictly greater than :data:`MISS_THRESHOLD_M`."""
    return final_errors > MISS_THRESHOLD_M


def best_mode(errors: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(C,)`` index of each case's valid mode with the smallest FDE (ties: lowest index)
    from ``(C, K, T)`` errors and ``(C, K)`` validity (every case has a valid mode)."""
    final = np.where(valid, errors[..., -1], np.inf)
    return np.argmin(final, axis=1)


def multimodal_metrics(
    errors: np.ndarray, probability: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-case ``minADE``, ``minFDE``, ``brier_minFDE`` (floats) and ``miss`` (bool), each
    ``(C,)``, from ``(C, K, T)`` errors, ``(C, K)`` probabilities and validity."""
    best = best_mode(errors, valid)
    rows = np.arange(errors.shape[0])
    chosen = errors[rows, best]  # (C, T)
    final = fde(chosen)
    return {
        "minADE": ade(chosen),
        "minFDE": final,
        "brier_minFDE": final + (1.0 - probability[rows, best]) ** 2,
        "miss": is_miss(final),
    }
