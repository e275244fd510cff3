"""Sweep aggregation: pass rate per parameter bin (per planner; with red lights run when the
runs' maps have lights), per base scenario, and over two parameters.

A crashed, corrupt or missing variant counts as not passed. A numeric parameter is binned
(:func:`bin_values`) when it is continuous: drawn from a range (``spans``: a fleet's
``--sweep key=low:high``) or with more than ``max_bins`` distinct values; it is then cut into
``ceil(sqrt(distinct values))`` equal-width bins, at most ``max_bins``, over its range (the
declared one, widened to the values), each bin saying its edges. Other parameters keep one bin
per value.

Which keys a run swept (:func:`swept_rows`): a fleet's ``--sweep`` keys from its
``fleet.json``; for a ``drivestack sim`` run, the keys of a scenario file's ``sweep.grid`` /
``sweep.random`` (or an unnamed ``sweep.cases`` entry), told by the variants' names: the
expansion names each variant ``name[key=value,...]`` after the keys it set, each by its last
part or a longer tail of it where the last parts clash (``lead_brake[speed_kph=60]``,
``lead_brake[ego.speed_kph=60,agents.0.speed_kph=90]``), so a config field that varies between a file's
variants (``ScenarioRow.params``) and appears with its value in every variant's name is
swept; named cases (``ccrs[10kph]``), which set several related fields per case, are not a
sweep.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from drivestack.report.collect import ScenarioRow, base_name
from drivestack.report.fields import finite_number_or_none

#: Bins per parameter at most.
MAX_BINS = 8
#: A parameter's declared range: ``(low, high)``.
Span = tuple[float, float]


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _order_key(value: Any) -> tuple[int, str, Any]:
    """Sort key of a swept value: numbers first, together and by value (a grid of ``10,
    12.5, 15`` read back as two types came out ``12.5, 10, 15``), then others by type."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, "", value)
    return (1, type(value).__name__, value)


def bin_values(
    values: list[Any], max_bins: int = MAX_BINS, span: Span | None = None
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The bins of a parameter's ``values`` and the bin index of every value: ``[{label,
    low, high}]`` in order, ``low`` / ``high`` the edges of an interval bin (``[20, 33.33)``;
    the last one closed), None for a bin of one value (its label the value). Interval bins
    when the values are numeric and ``span`` is given (a range sweep) or there are more than
    ``max_bins`` distinct ones (module docstring).

    >>> bins, idx = bin_values([20.0, 31.5, 44.0, 59.0], span=(20.0, 60.0))
    >>> [b["label"] for b in bins], idx.tolist()
    (['[20, 40)', '[40, 60]'], [0, 0, 1, 1])
    """
    # numbers (ints and floats alike, not bools) in numeric order, then the rest by type
    distinct = sorted(set(values), key=_order_key)
    if not _numeric(values) or (span is None and len(distinct) <= max_bins):
        lookup = {v: i for i, v in enumerate(distinct)}
        bins: list[dict[str, Any]] = [
            {"label": str(v), "low": None, "high": None} for v in distinct
        ]
        return bins, np.array([lookup[v] for v in values], dtype=np.int64)
    x = np.asarray(values, dtype=np.float64)
    low, high = float(x.min()), float(x.max())
    if span is not None:
        low, high = min(low, span[0]), max(high, span[1])
    n_bins = max(1, min(max_bins, math.ceil(math.sqrt(len(distinct)))))
    if high <= low:
        n_bins = 1
    edges = np.linspace(low, high, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    bins = [
        {
            "label": f"[{edges[i]:.4g}, {edges[i + 1]:.4g}" + ("]" if i == n_bins - 1 else ")"),
            "low": float(edges[i]),
            "high": float(edges[i + 1]),
        }
        for i in range(n_bins)
    ]
    return bins, idx


def pass_rate_by_param(
    rows: list[ScenarioRow], max_bins: int = MAX_BINS, spans: Mapping[str, Span] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{param: [{bin, planner, n, passed, pass_rate, mean_score}]}`` over rows that have
    ``param``: one entry per bin and planner (bins are cut over all planners' values, so the
    planners' entries of one bin cover the same values), bins in order, planners by name.
    An interval bin's entries also have its edges, ``low`` and ``high``
    (:func:`bin_values`; ``spans``: the declared ranges of range-swept keys).

    When some row's map has traffic lights (``red_light_violations`` not None), every entry
    also has ``red_light_runs``: its runs that ran at least one red light (a run whose count
    is unknown, e.g. a crashed one, counts as not)."""
    keys = sorted({k for r in rows for k in r.params})
    lights = any(r.red_light_violations is not None for r in rows)
    out: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        mine = [r for r in rows if key in r.params]
        bins, idx = bin_values([r.params[key] for r in mine], max_bins, (spans or {}).get(key))
        out[key] = []
        for b, bin_ in enumerate(bins):
            in_bin = [r for r, i in zip(mine, idx, strict=True) if i == b]
            for planner in sorted({r.planner for r in in_bin}):
                members = [r for r in in_bin if r.planner == planner]
                scores = [r.score for r in members if r.score is not None]
                entry: dict[str, Any] = {
                    "bin": bin_["label"],
                    "planner": planner,
                    "n": len(members),
                    "passed": sum(r.passed for r in members),
                    "pass_rate": sum(r.passed for r in members) / len(members),
                    "mean_score": float(np.mean(scores)) if scores else None,
                }
                if bin_["low"] is not None:
                    entry["low"], entry["high"] = bin_["low"], bin_["high"]
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
    rows: list[ScenarioRow],
    x_key: str,
    y_key: str,
    max_bins: int = MAX_BINS,
    spans: Mapping[str, Span] | None = None,
) -> dict[str, Any] | None:
    """Pass rate over two parameters: ``{x_key, y_key, x_labels, y_labels, pass_rate, n}``
    with ``pass_rate`` and ``n`` of shape ``(len(y_labels), len(x_labels))`` (NaN: empty),
    binned as :func:`pass_rate_by_param` bins them."""
    mine = [r for r in rows if x_key in r.params and y_key in r.params]
    if not mine:
        return None
    spans = spans or {}
    x_bins, xi = bin_values([r.params[x_key] for r in mine], max_bins, spans.get(x_key))
    y_bins, yi = bin_values([r.params[y_key] for r in mine], max_bins, spans.get(y_key))
    x_labels = [b["label"] for b in x_bins]
    y_labels = [b["label"] for b in y_bins]
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


def swept_rows(
    rows: list[ScenarioRow], manifest: Mapping[str, Any], kind: str
) -> tuple[list[str], list[ScenarioRow]]:
    """The keys a run swept (module docstring) and its rows of swept base scenarios, each
    with only its swept ``params``: a fleet's (``kind`` ``fleet``) ``--sweep`` keys from its
    ``manifest`` (``fleet.json``), the same for every variant; for a sim run, per scenario file
    (:attr:`~drivestack.report.collect.ScenarioRow.base_scenario`) the keys every one of its
    variants' names carries. ``([], [])`` when nothing was swept (or ``kind`` is neither)."""
    if kind == "fleet":
        params = _fleet_sweep_params(manifest)
        if params is None:
            return [], []
        listed = [p.get("key") for p in params]
        keys = [k for k in dict.fromkeys(listed) if isinstance(k, str)]
        by_base = {_base(r): keys for r in rows}
    elif kind == "sim":
        named: dict[str, dict[str, bool]] = defaultdict(dict)
        for r in rows:
            parts, mine = _label_parts(r.scenario), named[_base(r)]
            for key, value in r.params.items():
                mine[key] = mine.get(key, True) and _names(parts, key, value)
        by_base = {b: sorted(k for k, ok in n.items() if ok) for b, n in named.items()}
        keys = sorted({k for ks in by_base.values() for k in ks})
    else:
        return [], []
    out = [
        dataclasses.replace(r, params={k: r.params[k] for k in by_base[_base(r)] if k in r.params})
        for r in rows
    ]
    swept = {_base(r) for r in out if r.params}
    return (keys if swept else []), [r for r in out if _base(r) in swept]


def _base(row: ScenarioRow) -> str:
    """The scenario file a run is a variant of."""
    return row.base_scenario or base_name(row.scenario)


def sweep_spans(manifest: Mapping[str, Any], kind: str) -> dict[str, Span]:
    """The declared ranges of a fleet's range-swept keys (``--sweep key=low:high``: its
    ``fleet.json`` ``sweep.params`` entries with ``low`` and ``high``); ``{}`` otherwise."""
    params = _fleet_sweep_params(manifest) if kind == "fleet" else None
    out: dict[str, Span] = {}
    for p in params or []:
        if not isinstance(p.get("key"), str):
            continue
        low, high = finite_number_or_none(p.get("low")), finite_number_or_none(p.get("high"))
        if low is not None and high is not None and low <= high:
            out[p["key"]] = (low, high)
    return out


def _fleet_sweep_params(manifest: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A fleet's ``fleet.json`` ``sweep.params`` entries (the mappings among them), None
    when it records no such list."""
    sweep = manifest.get("sweep")
    params = sweep.get("params") if isinstance(sweep, dict) else None
    if not isinstance(params, list):
        return None
    return [p for p in params if isinstance(p, dict)]


_LABEL = re.compile(r"\[([^\[\]]*)\](?:#\d+)?$")


def _label_parts(scenario: str) -> list[tuple[str, str]]:
    """``(name, value)`` of each ``name=value`` in a scenario variant's ``[...]`` label."""
    m = _LABEL.search(scenario)
    if m is None:
        return []
    pairs = (p.split("=", 1) for p in m.group(1).split(",") if "=" in p)
    return [(name, value) for name, value in pairs]


def _names(parts: list[tuple[str, str]], key: str, value: Any) -> bool:
    """Whether a variant's label ``parts`` name ``key`` (by a tail of its dotted parts: its
    last part, or a longer tail such as ``ego.speed_kph`` where the last parts of two keys
    clash) with ``value`` (as text, or numerically equal: ``60`` and ``60.0``)."""
    for name, text in parts:
        if key != name and not key.endswith(f".{name}"):
            continue
        if text == str(value):
            return True
        try:
            if _numeric([value]) and float(text) == float(value):
                return True
        except ValueError:
            continue
    return False
