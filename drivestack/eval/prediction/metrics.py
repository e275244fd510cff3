"""Motion-forecasting metrics as Argoverse 2 defines them (av2-api
``av2/datasets/motion_forecasting/eval/metrics.py`` and its leaderboard), on centre xy in
metres:

- displacement error at a future step: the xy distance between forecast and true centre;
- ADE: the mean displacement error over the future steps ``1..n`` (index 0, "now", is not
  a future step), ADE@t over the steps up to ``t``;
- FDE: the displacement error at the last step, FDE@t at step ``t``;
- miss: FDE strictly greater than :data:`MISS_THRESHOLD_M` (2 m);
- with ``K`` modes: the best mode is the one with the smallest FDE (ties: the most probable,
  then the lowest mode index, as AV2); minFDE_K is its FDE, minADE_K its ADE (AV2's
  leaderboard: "the best here refers to the trajectory that has the minimum endpoint
  error"), miss_K its miss, and brier-minFDE_K its FDE plus ``(1 - p)^2`` with ``p`` its
  probability.
"""

from __future__ import annotations

import numpy as np

#: AV2's miss threshold (m): a forecast whose final displacement is more than this misses.
MISS_THRESHOLD_M = 2.0


def displacement_errors(
    forecast_xy: np.ndarray, truth_xy: np.ndarray, valid: np.ndarray | None = None
) -> np.ndarray:
    """``(..., T)`` xy distances between ``(..., T, 2)`` forecasts and ``(T, 2)`` or
    broadcastable ``(..., T, 2)`` true centres (future steps only).

    ``valid``: optional bool mask over the forecasts' leading axes (``(C, K)`` for ``(C, K,
    T, 2)`` modes): forecasts it marks False (NaN padding modes, as :func:`multimodal_metrics`
    takes them) are not checked, and their errors are NaN.

    ``ValueError`` naming the argument when either is not ``(..., T, 2)``, their shapes do not
    broadcast, or either holds a NaN or infinite value (a gap in the truth: a case needs the
    whole future) where it is read."""
    forecast_xy, truth_xy = np.asarray(forecast_xy), np.asarray(truth_xy)
    for name, xy in (("forecast_xy", forecast_xy), ("truth_xy", truth_xy)):
        if xy.ndim < 2 or xy.shape[-1] != 2:
            raise ValueError(f"{name} must have shape (..., T, 2), got {xy.shape}")
    if valid is not None:
        valid = np.asarray(valid)
        if (
            valid.dtype != bool
            or valid.shape != forecast_xy.shape[: valid.ndim]
            or (valid.ndim > forecast_xy.ndim - 2)
        ):
            raise ValueError(
                f"valid must be a bool mask over forecast_xy's leading axes "
                f"{forecast_xy.shape[:-2]}, got {valid.dtype} {valid.shape}"
            )
    _check_finite(forecast_xy, "forecast_xy", valid)
    _check_finite(truth_xy, "truth_xy")
    try:
        d = forecast_xy - truth_xy
    except ValueError:
        raise ValueError(
            f"forecast_xy {forecast_xy.shape} and truth_xy {truth_xy.shape} do not match "
            "(the same future steps T)"
        ) from None
    errors = np.hypot(d[..., 0], d[..., 1])
    if valid is not None:
        errors = np.where(
            valid.reshape(valid.shape + (1,) * (errors.ndim - valid.ndim)), errors, np.nan
        )
    return errors


def _check_finite(values: np.ndarray, name: str, where: np.ndarray | None = None) -> None:
    """``ValueError`` naming ``name`` and the first index of a NaN or infinite value (only
    where ``where`` holds, broadcast over the trailing axes, when given)."""
    bad = ~np.isfinite(values)
    if where is not None:
        bad &= where.reshape(where.shape + (1,) * (bad.ndim - where.ndim))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} has a NaN or infinite value at index {index}")


def _steps(errors: np.ndarray, n_steps: int | None) -> int:
    """``n_steps`` (the whole ``T`` of ``(..., T)`` errors when None) once it is an integer
    in ``1..T``; ``errors`` must be finite. ``TypeError`` / ``ValueError`` naming it."""
    n = errors.shape[-1] if n_steps is None else n_steps
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n_steps must be an integer, got {type(n).__name__} {n!r}")
    if not 1 <= n <= errors.shape[-1]:
        raise ValueError(f"n_steps must be in 1..{errors.shape[-1]}, got {n}")
    _check_finite(errors[..., :n], "errors")
    return int(n)


def ade(errors: np.ndarray, n_steps: int | None = None) -> np.ndarray:
    """``(...)`` mean of ``(..., T)`` displacement errors over the first ``n_steps`` future
    steps (all ``T`` by default); ``ValueError`` for ``n_steps`` outside ``1..T`` or a NaN or
    infinite error among those steps, ``TypeError`` for an ``n_steps`` that is no integer."""
    n = _steps(errors, n_steps)
    return errors[..., :n].mean(axis=-1)


def fde(errors: np.ndarray, n_steps: int | None = None) -> np.ndarray:
    """``(...)`` displacement error at future step ``n_steps`` (1-based; the last by default);
    errors as :func:`ade`."""
    n = _steps(errors, n_steps)
    return errors[..., n - 1]


def is_miss(final_errors: np.ndarray) -> np.ndarray:
    """Bool: final displacement strictly greater than :data:`MISS_THRESHOLD_M`; ``ValueError``
    for a NaN or infinite one (neither a hit nor a miss)."""
    final_errors = np.asarray(final_errors)
    _check_finite(final_errors, "final_errors")
    return final_errors > MISS_THRESHOLD_M


def best_mode(
    errors: np.ndarray, valid: np.ndarray, probability: np.ndarray | None = None
) -> np.ndarray:
    """``(C,)`` index of each case's valid mode with the smallest FDE from ``(C, K, T)``
    errors and ``(C, K)`` validity (every case has a valid mode).

    Ties (equal FDE): with ``(C, K)`` ``probability`` (of the valid modes), the most probable
    of the tied modes, then the lowest index, as AV2 scores them (its forecasts list modes by
    descending probability and it takes the first smallest FDE); without, the lowest index.
    """
    final = np.where(valid, errors[..., -1], np.inf)
    if probability is None:
        return np.argmin(final, axis=1)
    tied = final == final.min(axis=1, keepdims=True)
    return np.argmax(np.where(tied, probability, -np.inf), axis=1)


def multimodal_metrics(
    errors: np.ndarray, probability: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-case ``minADE``, ``minFDE``, ``brier_minFDE`` (floats) and ``miss`` (bool), each
    ``(C,)``, from ``(C, K, T)`` errors, ``(C, K)`` probabilities and validity.

    The best mode is :func:`best_mode`'s (ties on FDE: the most probable). Probabilities are
    used as given: not renormalised, they need not sum to 1 (as av2's ``compute_brier_fde``
    with its default ``normalize=False``; :class:`~drivestack.prediction.MultiModalForecast`,
    what drivestack's forecasters return, requires a sum of 1, this function does not). Raises
    ``ValueError`` naming the argument (and the index) when the shapes do not fit (at least one
    mode and one step), a case has no valid mode, or a valid mode has a NaN or infinite error
    or a probability outside ``[0, 1]`` (padding modes, not valid, are not read).
    """
    errors, probability = np.asarray(errors), np.asarray(probability)
    valid = np.asarray(valid)
    if errors.ndim != 3 or errors.shape[1] < 1 or errors.shape[2] < 1:
        raise ValueError(
            f"errors must have shape (C, K, T) with K >= 1 modes and T >= 1 steps, "
            f"got {errors.shape}"
        )
    for name, arr in (("probability", probability), ("valid", valid)):
        if arr.shape != errors.shape[:2]:
            raise ValueError(f"{name} must have shape (C, K) = {errors.shape[:2]}, got {arr.shape}")
    if valid.dtype != bool:
        raise ValueError(f"valid must be bool, got {valid.dtype}")
    no_mode = ~valid.any(axis=1)
    if no_mode.any():
        raise ValueError(f"valid: case {int(np.argmax(no_mode))} has no valid mode")
    _check_finite(errors, "errors", valid)
    outside = valid & ~((probability >= 0.0) & (probability <= 1.0))
    if outside.any():
        c, k = (int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"probability of case {c}, mode {k} must be in [0, 1], got {probability[c, k]!r}"
        )
    best = best_mode(errors, valid, probability)
    rows = np.arange(errors.shape[0])
    chosen = errors[rows, best]  # (C, T)
    final = fde(chosen)
    return {
        "minADE": ade(chosen),
        "minFDE": final,
        "brier_minFDE": final + (1.0 - probability[rows, best]) ** 2,
        "miss": is_miss(final),
    }
