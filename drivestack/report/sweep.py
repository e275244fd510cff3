"""Sweep aggregation: pass rate per parameter bin (per planner; with red lights run when the
runs' maps have lights), per base scenario, and over two parameters.

A crashed, corrupt or missing variant counts as not passed. Numeric parameters with more than
``max_bins`` distinct values are cut into ``max_bins`` equal-width bins; others keep one bin
per value.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from drivestack.report.collect import ScenarioRow


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _bins(values: list[Any], max_bins: int) -> tuple[list[str], np.ndarray]:
    """Bin labels and the bin index of every value."""
    distinct = sorted(set(values), key=lambda v: (str(type(v)), v))
    if not _numeric(values) or len(distinct) <= max_bins:
        labels = [str(v) for v in distinct]
        lookup = {v: i for i, v in enumerate(distinct)}
        return labels, np.array([lookup[v] for v in values], dtype=np.int64)
    x = np.asarray(values, dtype=np.float64)
    edges = np.linspace(x.min(), x.max(), max_bins + 1)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, max_bins - 1)
    labels = [f"{edges[i]:.4g}-{edges[i + 1]:.4g}" for i in range(max_bins)]
    return labels, idx


def pass_rate_by_param(
    rows: list[ScenarioRow], max_bins: int = 6
) -> dict[str, list[dict[str, Any]]]:
    """``{param: [{bin, planner, n, passed, pass_rate, mean_score}]}`` over rows that have
    ``param``: one entry per bin and planner (bins are cut over all planners' values, so the
    planners' entries of one bin cover the same values), bins in order, planners by name.

    When some row's map has traffic lights (``red_light_violations`` not None), every entry
    also has ``red_light_runs``: its runs that ran at least one red light (a run whose count
    is unknown, e.g. a crashed one, counts as not)."""
    keys = sorted({k for r in rows for k in r.params})
    lights = any(r.red_light_violations is not None for r in rows)
    out: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        mine = [r for r in rows if key in r.params]
        labels, idx = _bins([r.params[key] for r in mine], max_bins)
        out[key] = []
        for b, label in enumerate(labels):
            in_bin = [r for r, i in zip(mine, idx, strict=True) if i == b]
            for planner in sorted({r.planner for r in in_bin}):
                members = [r for r in in_bin if r.planner == planner]
                scores = [r.score for r in members if r.score is not None]
                entry: dict[str, Any] = {
                    "bin": label,
                    "planner": planner,
                    "n": len(members),
                    "passed": sum(r.passed for r in members),
                    "pass_rate": sum(r.passed for r in members) / len(members),
                    "mean_score": float(np.mean(scores)) if scores else None,
                }
                if lights:
                    entry["red_light_runs"] = sum(bool(r.red_light_violations) for r in members)
                out[key].append(entry)
    return out


def pass_rate_by_scenario(rows: list[ScenarioRow]) -> list[dict[str, Any]]:
    """Per (planner, base scenario): variants, passed, pass rate, worst score; worst first."""
    groups: dict[tuple[str, str], list[ScenarioRow]] = defaultdict(list)
    for r in rows:
        groups[(r.planner, r.base_scenario or r.scenario)].append(r)
    out = []
    for (planner, name), members in groups.items():
        scores = [r.score for r in members if r.score is not None]
        passed = sum(r.passed for r in members)
        out.append(
            {
                "planner": planner,
                "scenario": name,
                "n": len(members),
                "passed": passed,
                "pass_rate": passed / len(members),
                "min_score": min(scores) if scores else None,
            }
        )
    out.sort(key=lambda d: (d["pass_rate"], d["min_score"] if d["min_score"] is not None else -1))
    return out


def heatmap(
    rows: list[ScenarioRow], x_key: str, y_key: str, max_bins: int = 6
) -> dict[str, Any] | None:
    """Pass rate over two parameters: ``{x_key, y_key, x_labels, y_labels, pass_rate, n}``
    with ``pass_rate`` and ``n`` of shape ``(len(y_labels), len(x_labels))`` (NaN: empty)."""
    mine = [r for r in rows if x_key in r.params and y_key in r.params]
    if not mine:
        return None
    x_labels, xi = _bins([r.params[x_key] for r in mine], max_bins)
    y_labels, yi = _bins([r.params[y_key] for r in mine], max_bins)
    n = np.zeros((len(y_labels), len(x_labels)), dtype=np.int64)
    passed = np.zeros_like(n)
    np.add.at(n, (yi, xi), 1)
    np.add.at(passed, (yi, xi), np.array([r.passed for r in mine], dtype=np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, passed / np.maximum(n, 1), np.nan)
    return {
        "x_key": x_key,
        "y_key": y_key,
        "x_labels": x_labels,
        "y_labels": y_labels,
        "pass_rate": rate,
        "n": n,
    }


def heatmap_params(rows: list[ScenarioRow]) -> tuple[str, str] | None:
    """The two swept parameters set on the most rows (ties: more distinct values, then name)."""
    counts: dict[str, int] = defaultdict(int)
    distinct: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for k, v in r.params.items():
            counts[k] += 1
            distinct[k].add(repr(v))
    ranked = sorted(counts, key=lambda k: (-counts[k], -len(distinct[k]), k))
    return (ranked[0], ranked[1]) if len(ranked) >= 2 else None
