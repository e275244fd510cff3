"""Open-loop planning results in a report: the metrics.json of ``drivestack eval planning``.

Recognised (:func:`is_planning`) by its ``settings`` holding ``horizons_s``; read and checked
by :func:`read_planning` (a malformed field is a ``ValueError`` naming it): dataset, settings
(nuPlan's horizons, bounds, miss thresholds, weights), per log and planner the figures per
horizon (instants, ADE, FDE, AHE, FHE, miss rate), the four bounded scores, the miss
multiplier, their weighted mean and the OLS, and every instant's errors; per planner the OLS
over the logs and the errors pooled over every instant.

:func:`ade_curve` and :func:`instant_ade` recompute, from the recorded instants, the average
L2 error at every compared sample (1 s steps up to 8 s) and per instant, with
:func:`~drivestack.eval.driving.open_loop.horizon_metrics` (the same rule: an instant counts
for a horizon only when the recording covers it).

Two results are compared (:func:`compare_planning`) only when their dataset and settings
(planner lists aside) agree: per planner and log, the OLS (a drop beyond the score tolerance,
in points of 0-100, is a regression) and the ADE at each horizon (a rise beyond the error
tolerance in metres); the planners' OLS over the logs and pooled ADE (log ``all``) only when
both scored the same logs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.report.fields import array, count, number, numbers, obj, required_number, text
from drivestack.report.prediction import PROVENANCE, change, compare_pairs

#: The figures of a horizon (errors in metres and radians, the miss rate a fraction).
HORIZON_FIELDS = (
    "average_l2_m",
    "final_l2_m",
    "average_heading_rad",
    "final_heading_rad",
    "miss_rate",
)
#: The four bounded scores of the OLS, in nuPlan's order.
SCORE_PARTS = ("average_l2", "final_l2", "average_heading", "final_heading")
#: The log name of a planner's figures over every log.
ALL_LOGS = "all"


def is_planning(data: object) -> bool:
    """Whether a metrics.json is ``drivestack eval planning``'s (module doc)."""
    settings = data.get("settings") if isinstance(data, dict) else None
    return isinstance(settings, dict) and "horizons_s" in settings


def _result(value: object, where: str, with_instants: bool) -> dict[str, Any]:
    """One planner's figures on one log (or pooled): per horizon, the scores, the OLS."""
    r = obj(value, where)
    horizons = []
    for i, h in enumerate(array(r.get("horizons"), f"{where}.horizons")):
        h = obj(h, f"{where}.horizons.{i}")
        at = f"{where}.horizons.{i}"
        horizons.append(
            {
                "horizon_s": required_number(h.get("horizon_s"), f"{at}.horizon_s"),
                "instants": count(h.get("instants"), f"{at}.instants"),
                **{k: number(h.get(k), f"{at}.{k}") for k in HORIZON_FIELDS},
            }
        )
    scores = r.get("scores")
    out: dict[str, Any] = {
        "horizons": horizons,
        "scores": (
            {k: number(scores.get(k), f"{where}.scores.{k}") for k in SCORE_PARTS}
            if isinstance(scores, dict)
            else {}
        ),
        "weighted_score": number(r.get("weighted_score"), f"{where}.weighted_score"),
        "miss_rate_within_bound": number(
            r.get("miss_rate_within_bound"), f"{where}.miss_rate_within_bound"
        ),
        "score": number(r.get("score"), f"{where}.score"),
    }
    if with_instants:
        instants = []
        for i, e in enumerate(array(r.get("instants"), f"{where}.instants")):
            e = obj(e, f"{where}.instants.{i}")
            at = f"{where}.instants.{i}"
            d = numbers(e.get("displacement_m"), f"{at}.displacement_m")
            h = numbers(e.get("heading_error_rad"), f"{at}.heading_error_rad")
            if len(h) != len(d):
                raise ValueError(
                    f"field {at}.heading_error_rad: {len(h)} values against "
                    f"{len(d)} in displacement_m"
                )
            t = required_number(e.get("time_s"), f"{at}.time_s")
            instants.append({"time_s": t, "displacement_m": d, "heading_error_rad": h})
        out["instants"] = instants
    return out


def read_planning(data: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of an open-loop planning metrics.json (module doc), checked.

    Raises:
        ValueError: naming the first malformed field (``field logs.0.planners.pdm.score: ...``).
    """
    dataset = text(data.get("dataset"), "dataset")
    settings = obj(data.get("settings"), "settings")
    horizons = numbers(settings.get("horizons_s"), "settings.horizons_s")
    if not horizons:
        raise ValueError("field settings.horizons_s: expected at least one horizon")
    interval = required_number(
        settings.get("sample_interval_s"), "settings.sample_interval_s", positive=True
    )
    try:
        _params({"horizons_s": horizons, "sample_interval_s": interval})
    except (TypeError, ValueError) as exc:
        raise ValueError(f"field settings: {exc}") from None
    planners = [str(p) for p in array(settings.get("planners"), "settings.planners")]
    logs = []
    for i, log in enumerate(array(data.get("logs"), "logs")):
        log = obj(log, f"logs.{i}")
        name = text(log.get("log"), f"logs.{i}.log")
        results = {
            str(p): _result(r, f"logs.{i}.planners.{p}", with_instants=True)
            for p, r in obj(log.get("planners"), f"logs.{i}.planners").items()
        }
        logs.append(
            {
                "log": name,
                "short": name[:8],
                "span_s": number(log.get("span_s"), f"logs.{i}.span_s"),
                "planners": results,
            }
        )
    overall = {}
    for p, o in obj(data.get("overall", {}), "overall").items():
        o = obj(o, f"overall.{p}")
        overall[str(p)] = {
            "score": number(o.get("score"), f"overall.{p}.score"),
            "pooled": _result(o.get("pooled_instants"), f"overall.{p}.pooled_instants", False),
        }
    notes = data.get("notes")
    return {
        "dataset": dataset,
        "root": data.get("root"),
        "settings": {**settings, "horizons_s": horizons, "sample_interval_s": interval},
        "planners": planners,
        "logs": logs,
        "overall": overall,
        "notes": [str(n) for n in notes] if isinstance(notes, list) else [],
        **{k: data[k] for k in PROVENANCE if isinstance(data.get(k), str)},
    }


def _params(settings: dict[str, Any]) -> Any:
    from drivestack.eval.driving.open_loop import OpenLoopParams

    horizons = tuple(settings["horizons_s"])
    return OpenLoopParams(
        horizons_s=horizons,
        sample_interval_s=settings["sample_interval_s"],
        miss_thresholds_m=tuple(1.0 for _ in horizons),  # unused: the ADE needs none
    )


def _errors(instants: list[dict[str, Any]]) -> list[Any]:
    from drivestack.eval.driving.open_loop import InstantErrors

    return [
        InstantErrors(
            e["time_s"],
            np.asarray(e["displacement_m"], dtype=np.float64),
            np.asarray(e["heading_error_rad"], dtype=np.float64),
        )
        for e in instants
    ]


def ade_curve(
    instants: list[dict[str, Any]], settings: dict[str, Any]
) -> tuple[list[float], list[float | None]]:
    """The average L2 error (m) at every compared sample time ``k * sample_interval_s`` up to
    the longest horizon, over the instants that cover it (None where none does): at nuPlan's
    horizons it is the recorded ADE."""
    from drivestack.eval.driving.open_loop import horizon_metrics

    params = _params(settings)
    errors = _errors(instants)
    times = [k * params.sample_interval_s for k in range(1, params.max_steps + 1)]
    return times, [horizon_metrics(errors, t, math.inf, params).average_l2_m for t in times]


def instant_ade(
    instants: list[dict[str, Any]], horizon_s: float, settings: dict[str, Any]
) -> tuple[list[float], list[float]]:
    """``(times, ADE)`` of each instant that covers ``horizon_s``: its mean L2 error over the
    samples up to the horizon (the means :func:`ade_curve` averages)."""
    n = _params(settings).steps(horizon_s)
    rows = [e for e in instants if len(e["displacement_m"]) >= n]
    return [e["time_s"] for e in rows], [float(np.mean(e["displacement_m"][:n])) for e in rows]


def settings_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The settings (and dataset) that differ, planner lists aside; ``[]`` when they agree."""
    out = []
    if mine["dataset"] != theirs["dataset"]:
        out.append(f"dataset {mine['dataset']} here, {theirs['dataset']} in the baseline")
    a, b = mine["settings"], theirs["settings"]
    for key in dict.fromkeys([*a, *b]):
        if key != "planners" and a.get(key) != b.get(key):
            out.append(f"{key} {a.get(key)} here, {b.get(key)} in the baseline")
    return out


def _figures(
    result: dict[str, Any], ols: float | None
) -> dict[str, tuple[float | None, float, str]]:
    """``metric -> (value, scale, unit)`` of one planner on one log: OLS (points) and ADE per
    horizon (m)."""
    out: dict[str, tuple[float | None, float, str]] = {"OLS": (ols, 100.0, "points")}
    for h in result["horizons"]:
        out[f"ADE@{h['horizon_s']:g}s"] = (h["average_l2_m"], 1.0, "m")
    return out


def _by_log(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """``(log, planner) -> figures`` (:func:`_figures`), with log ``all`` from ``overall``."""
    out = {
        (log["log"], p): _figures(r, r["score"])
        for log in result["logs"]
        for p, r in log["planners"].items()
    }
    for p, o in result["overall"].items():
        out[(ALL_LOGS, p)] = _figures(o["pooled"], o["score"])
    return out


def _compare_pair(
    entry: dict[str, Any],
    mine: dict[str, Any],
    theirs: dict[str, Any],
    run_path: Path,
    baseline_path: Path,
    score_tolerance: float,
    error_tolerance_m: float,
) -> list[str]:
    """:func:`~drivestack.report.prediction.compare_pairs`'s ``compare_pair`` of two
    open-loop planning results."""
    warnings = []
    figures, b_figures = _by_log(mine), _by_log(theirs)
    logs = {log["log"] for log in mine["logs"]}
    b_logs = {log["log"] for log in theirs["logs"]}
    if logs != b_logs:
        entry["same_logs"] = False
        warnings.append(
            f"the open-loop planning results of the run ({run_path}) and of the "
            f"baseline ({baseline_path}) scored other logs ({len(logs)} against "
            f"{len(b_logs)}, {len(logs & b_logs)} in common): the logs in both are "
            "compared, the planners' figures over all logs are not"
        )
        figures = {k: v for k, v in figures.items() if k[0] != ALL_LOGS}
        b_figures = {k: v for k, v in b_figures.items() if k[0] != ALL_LOGS}
    entry["only_in_run"] = [f"{p} on {log}" for log, p in figures if (log, p) not in b_figures]
    entry["only_in_baseline"] = [f"{p} on {log}" for log, p in b_figures if (log, p) not in figures]
    for (log, planner), values in figures.items():
        before_values = b_figures.get((log, planner))
        if before_values is None:
            continue
        for metric, (value, scale, unit) in values.items():
            before = before_values.get(metric, (None,))[0]
            if value is None or before is None:
                continue
            delta = value - before
            # OLS: higher is better, so a drop is the regression
            signed = -delta * scale if metric == "OLS" else delta * scale
            tol = score_tolerance if unit == "points" else error_tolerance_m
            entry["rows"].append(
                {
                    "planner": planner,
                    "log": log,
                    "metric": metric,
                    "unit": unit,
                    "value": value,
                    "baseline": before,
                    "delta": delta,
                    "change": change(signed, tol),
                }
            )
    return warnings


def compare_planning(
    run: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    run_root: Path,
    baseline_root: Path,
    score_tolerance: float,
    error_tolerance_m: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The comparisons of the paired results (rows per planner, log and figure with their
    ``change``; empty when not comparable), the regressions and the warnings (module doc)."""
    return compare_pairs(
        run,
        baseline,
        run_root,
        baseline_root,
        "open-loop planning",
        "OLS or ADE",
        "same_logs",
        settings_differences,
        _compare_pair,
        score_tolerance,
        error_tolerance_m,
    )


def headline(
    run: dict[str, dict[str, Any]], comparisons: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per result and planner: the OLS over the logs, with the baseline's where compared."""
    lines = []
    for rel, result in run.items():
        before = {
            r["planner"]: r["baseline"]
            for c in comparisons
            if c["file"] == rel
            for r in c["rows"]
            if r["log"] == ALL_LOGS and r["metric"] == "OLS"
        }
        where = f" ({rel})" if len(run) > 1 else ""
        for planner, o in result["overall"].items():
            lines.append(
                {
                    "name": f"open-loop {planner}: OLS over {_logs_scored(result, planner)}{where}",
                    "value": o["score"],
                    "baseline": before.get(planner),
                    "anchor": None,
                }
            )
    return lines


def _logs_scored(result: dict[str, Any], planner: str) -> str:
    """``"k logs"``, or ``"k of n logs"`` when some of the result's logs have no OLS for
    ``planner`` (too short for the longest horizon: the mean leaves them out)."""
    mine = [log["planners"][planner] for log in result["logs"] if planner in log["planners"]]
    k = sum(r["score"] is not None for r in mine)
    return f"{k} logs" if k == len(mine) else f"{k} of {len(mine)} logs"
