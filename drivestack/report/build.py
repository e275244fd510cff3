"""Build a report: read a run (and a baseline), compare, aggregate, plot, write HTML and JSON."""

from __future__ import annotations

import contextlib
import datetime
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivestack import __version__
from drivestack.core.errors import DataError
from drivestack.core.json_values import is_number
from drivestack.eval.driving.nuplan import TTC_HORIZON_S
from drivestack.exec.fleet import SUMMARY_NAME
from drivestack.report import detection2d, plots
from drivestack.report import planning as open_loop
from drivestack.report import prediction as forecasts
from drivestack.report.collect import (
    STATUS_ORDER,
    RunData,
    ScenarioRow,
    load_run,
    require_results,
)
from drivestack.report.compare import Comparison, comparable_key, compare_rows
from drivestack.report.defaults import (
    DEFAULT_ERROR_TOLERANCE_M,
    DEFAULT_MAX_DETAIL,
    DEFAULT_SCORE_TOLERANCE,
)
from drivestack.report.detection import KITTI_AP_KEY, compare_detection
from drivestack.report.detection import headline as detection_headline
from drivestack.report.lead import lead_trace
from drivestack.report.light_view import light_view
from drivestack.report.perception import read_sim_perception
from drivestack.report.scenario_view import MapCache, load_history
from drivestack.report.score_terms import comfort_breach, score_terms
from drivestack.report.sweep import (
    heatmap,
    heatmap_params,
    pass_rate_by_param,
    pass_rate_by_scenario,
    sweep_spans,
    swept_rows,
)
from drivestack.report.tracking import (
    Published,
    baseline_table,
    results_source,
    scored_span,
    table_title,
    tracking_regressions,
    tracking_tables,
)

WORST_VARIANTS = 25
MAX_SWEEP_PARAMS = 6  # parameters shown per bin (most widely set first)
MAX_LOG_PANELS = 12  # logs drawn instant by instant per open-loop planning result


@dataclass(frozen=True)
class Report:
    """The report's data (``data``, JSON-ready) and its inline figures (``figures``: id -> URI)."""

    data: dict[str, Any]
    figures: dict[str, str]


def _eval_values(run: RunData, key: str) -> list[str]:
    """The distinct non-empty strings the run's eval metrics.json and replay summaries record
    at the top level under ``key`` (``git_commit``, ``drivestack_version``, ``command``), in
    file order."""
    results = (
        *run.replay.values(),
        *run.tracking.values(),
        *run.detection.values(),
        *run.prediction.values(),
        *run.planning.values(),
        *run.detection2d.values(),
    )
    values = [d.get(key) for d in results if isinstance(d, dict)]
    return list(dict.fromkeys(v for v in values if isinstance(v, str) and v))


def runs_commit(run: RunData) -> str | None:
    """The drivestack commit(s) ``run``'s results were made with, as they recorded it at run
    time: the runs' own (several joined with ", " when a fleet was resumed at another
    commit), else the manifest's, else the eval metrics.json's or replay summary's
    top-level ``git_commit``;
    None when not recorded (older runs, not a git checkout)."""
    commits = sorted({r.git_commit for r in run.rows if r.git_commit})
    return ", ".join(commits) if commits else _recorded(run, "git_commit")


def runs_version(run: RunData) -> str | None:
    """The drivestack version the run recorded (its manifest's, else its eval metrics.json's
    ``drivestack_version``); None when not recorded."""
    return _recorded(run, "drivestack_version")


def _recorded(run: RunData, key: str) -> str | None:
    """The run manifest's ``key``, else the eval metrics.json's (:func:`_eval_values`, joined
    with ", "); None when neither records it."""
    value = run.manifest.get(key)
    if isinstance(value, str) and value:
        return value
    return ", ".join(_eval_values(run, key)) or None


def _history_warnings(run: RunData) -> list[str]:
    """A warning naming the runs (pass or fail) without a ``history.npz`` beside their
    ``metrics.json``: every run writes one, so it was removed or not copied, and the page has
    no scenario view of them."""
    missing = [
        row.key
        for row in run.rows
        if row.status in ("pass", "fail") and not (run.root / row.key / "history.npz").exists()
    ]
    if not missing:
        return []
    more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
    return [
        f"{len(missing)} run(s) without history.npz beside their metrics.json: no scenario "
        f"view for them ({', '.join(missing[:3])}{more})"
    ]


def _max_steps_warnings(run: RunData, baseline: RunData | None) -> list[str]:
    """A warning when the run and its baseline were cut to different ``--max-steps`` (both
    recorded: older runs do not say)."""
    if baseline is None or "max_steps" not in run.manifest or "max_steps" not in baseline.manifest:
        return []
    mine, theirs = run.manifest["max_steps"], baseline.manifest["max_steps"]
    if mine == theirs:
        return []
    return [
        f"the run was cut to max_steps {mine if mine is not None else 'none (full length)'} "
        f"but the baseline to {theirs if theirs is not None else 'none (full length)'}: "
        "their scores are not comparable"
    ]


def _agents_warnings(
    run: RunData, baseline: RunData | None, comparison: Comparison | None
) -> list[str]:
    """A warning when runs in both ran their recorded traffic another way (``recorded_agents``,
    ``drivestack sim --agents``): their scores differ by design, so they are not compared
    (``comparison.other_agents``)."""
    if baseline is None or comparison is None or not comparison.other_agents:
        return []
    mine = {comparable_key(r.key): r.recorded_agents for r in run.rows}
    theirs = {comparable_key(r.key): r.recorded_agents for r in baseline.rows}
    pairs = sorted({(mine[k], theirs[k]) for k in comparison.other_agents})
    modes = "; ".join(f"{a} here, {b} in the baseline" for a, b in pairs)
    return [
        f"{len(comparison.other_agents)} runs in both ran their recorded traffic another way "
        f"(recorded_agents {modes}: drivestack sim --agents or a scenario's agents_reactive): "
        "their scores are not comparable and they are not compared"
    ]


def _config_warnings(
    run: RunData, baseline: RunData | None, comparison: Comparison | None
) -> list[str]:
    """A warning when compared runs ran another scenario config (``comparison.other_config``:
    a scenario file edited between the runs), naming the first run and the keys that differ:
    their changes may be the scenario's, not the stack's."""
    if baseline is None or comparison is None or not comparison.other_config:
        return []
    from drivestack.report.compare import config_differences

    mine = {comparable_key(r.key): r.config_flat for r in run.rows}
    theirs = {comparable_key(r.key): r.config_flat for r in baseline.rows}
    first = comparison.other_config[0]
    keys = config_differences(mine[first], theirs[first])
    shown = ", ".join(
        f"{k} {mine[first][k]!r} here, {theirs[first][k]!r} in the baseline" for k in keys[:3]
    ) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    return [
        f"{len(comparison.other_config)} compared runs ran another scenario config (first "
        f"{first}: {shown}): the scenario was edited between the runs, so their changes may be "
        "the scenario's, not the stack's"
    ]


def _agents_unknown_warnings(comparison: Comparison | None) -> list[str]:
    """A warning when runs in both were compared although one of them does not say how its
    recorded traffic ran (``comparison.agents_unknown``: no ``recorded_agents`` and no
    embedded scenario config in its metrics.json)."""
    if comparison is None or not comparison.agents_unknown:
        return []
    shown = ", ".join(comparison.agents_unknown[:3])
    more = len(comparison.agents_unknown) - 3
    return [
        f"{len(comparison.agents_unknown)} runs in both ({shown}"
        + (f" and {more} more" if more > 0 else "")
        + ") were compared, but the report cannot tell whether their recorded traffic ran the "
        "same way: one of the two metrics.json records neither recorded_agents nor its "
        "scenario config (made by an older drivestack); they may not be comparable"
    ]


def _sweep_warnings(
    run: RunData, baseline: RunData | None, comparison: Comparison | None
) -> list[str]:
    """A warning when two fleets were swept differently (``--sweep`` parameters or
    ``--seed`` in their ``fleet.json``; more ``--variants`` only append variants): their
    folders of the same name need not have run the same values; those whose params differ
    are not compared (``comparison.not_comparable``)."""
    if baseline is None or run.kind != "fleet" or baseline.kind != "fleet":
        return []
    mine, theirs = run.manifest.get("sweep"), baseline.manifest.get("sweep")
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return []
    differ = [
        f"{what} {show(mine.get(key))} here, {show(theirs.get(key))} in the baseline"
        for key, what, show in (("params", "--sweep", _sweep_text), ("seed", "--seed", repr))
        if mine.get(key) != theirs.get(key)
    ]
    if not differ:
        return []
    skipped = len(comparison.not_comparable) if comparison is not None else 0
    return [
        f"the run and the baseline are fleets swept differently ({'; '.join(differ)}): a "
        f"variant folder of the same name ran other values; {skipped} such runs with other "
        "params are not compared, only those with equal params are"
    ]


def _sweep_text(params: object) -> str:
    """A fleet.json's swept parameters as the options gave them (``ego.speed_kph=20:60
    agents.0.station_m=120,140``); ``none`` without any."""
    if not isinstance(params, list) or not params:
        return "none"
    parts = []
    for p in params:
        bounds = (p.get("low"), p.get("high")) if isinstance(p, dict) else ()
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in bounds)
        if not isinstance(p, dict) or (p.get("low") is not None and not numbers):
            parts.append(repr(p))  # (a damaged entry is shown as it is, not a TypeError)
        elif p.get("low") is not None:
            parts.append(f"{p.get('key')}={p['low']:g}:{p['high']:g}")
        else:
            parts.append(f"{p.get('key')}={','.join(str(v) for v in p.get('values') or [])}")
    return " ".join(parts)


def _report_commit(runs: str | None) -> str | None:
    """The checkout's commit now, when it differs from the runs' (None when the same)."""
    from drivestack.core.provenance import git_commit

    now = git_commit()
    return now if now != runs else None


def _counts(run: RunData) -> dict[str, int]:
    """Runs per status and in all (``total``); ``corrupt`` also counts the tracking and
    detection metrics.json that do not parse, so that it agrees with the problems listed;
    ``known_failure`` the failing runs their suite lists (apart from ``fail``, as ``drivestack
    sim`` counts them), ``unexpected_pass`` the listed runs that passed (among ``pass``) and
    ``known_failure_not_evaluated`` the listed runs that passed what a run cut short could
    judge (among ``pass``; neither a known failure nor an unexpected pass)."""
    extra = {"known_failure": 0, "unexpected_pass": 0, "known_failure_not_evaluated": 0}
    counts = {s: 0 for s in STATUS_ORDER} | extra
    for r in run.rows:
        counts["known_failure" if r.ending == "known_failure" else r.status] += 1
        counts["unexpected_pass"] += r.ending == "unexpected_pass"
        counts["known_failure_not_evaluated"] += r.ending == "known_failure_not_evaluated"
    counts["corrupt"] += len(run.corrupt_results)
    counts["total"] = len(run.rows)
    return counts


def _per_planner(rows: tuple[ScenarioRow, ...]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for planner in sorted({r.planner for r in rows}):
        mine = [r for r in rows if r.planner == planner]
        scores = [r.score for r in mine if r.score is not None]
        out[planner] = {
            "n": len(mine),
            "scored": len(scores),  # (crashed, corrupt and missing runs have no score)
            "passed": sum(r.passed for r in mine),
            "collisions": sum(bool(r.collision) for r in mine),
            "mean_score": float(np.mean(scores)) if scores else None,
        }
    return out


def _detection_summary(data: dict[str, Any]) -> dict[str, Any]:
    """KITTI AP tables (class x kind -> easy/moderate/hard) or the protocol's scalar metrics,
    AV2's per-category summary (``av2_summary``) and the notes eval detection wrote."""
    metrics = data.get("metrics", {})
    kitti: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        m = KITTI_AP_KEY.match(key)
        if (
            m
            and m["ap"] == "AP40"
            and m["mode"] in (None, "strict")
            and isinstance(value, int | float)
        ):
            kitti.setdefault(f"{m['cls']} {m['kind']} AP40", {})[m["diff"]] = float(value)
    scalars: dict[str, float] = {}
    for key, value in metrics.items():
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and not KITTI_AP_KEY.match(key)
            and not key.startswith("Overall_labelled_")  # KITTI, beside Overall_*: no scalar
        ):
            scalars[key] = float(value)
        elif isinstance(value, dict) and key != "protocol_config":
            for sub, v in value.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    scalars[f"{key}.{sub}"] = float(v)
    # AV2: per category (and AVERAGE_METRICS) AP / ATE / ASE / AOE / CDS, two levels deep
    summary = metrics.get("summary")
    av2: dict[str, dict[str, float]] = {}
    for cat, row in summary.items() if isinstance(summary, dict) else ():
        if isinstance(row, dict):
            av2[str(cat)] = {str(k): float(v) for k, v in row.items() if is_number(v)}
    notes = data.get("notes")
    return {
        "dataset": data.get("dataset"),
        "protocol": metrics.get("protocol"),
        "num_frames": data.get("num_frames"),
        "source": data.get("source"),
        "kitti_ap": kitti,
        "scalars": dict(list(scalars.items())[:80]),
        "av2_summary": av2,
        # what eval detection printed under its table (AP40 quantisation, undefined errors)
        "notes": [str(n) for n in notes] if isinstance(notes, list) else [],
        "pr_curves": pr_curves(data.get("pr_curves")),
    }


def pr_curves(value: object) -> dict[str, Any] | None:
    """The ``pr_curves`` of a detection metrics.json (``drivestack eval detection``, KITTI:
    ``{"recall_positions": [R], "curves": {class: {kind: {strictness: {difficulty: [R]}}}}}``),
    checked; None when absent. Raises ``ValueError`` naming the field when malformed."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("field pr_curves: expected an object")
    recall = value.get("recall_positions")
    if not isinstance(recall, list) or len(recall) < 2 or not all(is_number(r) for r in recall):
        raise ValueError("field pr_curves.recall_positions: expected a list of numbers")
    curves = value.get("curves")
    if not isinstance(curves, dict):
        raise ValueError("field pr_curves.curves: expected an object")
    out: dict[str, dict[str, dict[str, dict[str, list[float]]]]] = {}
    for cls, kinds in curves.items():
        if not isinstance(kinds, dict):
            raise ValueError(f"field pr_curves.curves.{cls}: expected an object")
        for kind, sets in kinds.items():
            if not isinstance(sets, dict):
                raise ValueError(f"field pr_curves.curves.{cls}.{kind}: expected an object")
            for strictness, diffs in sets.items():
                where = f"pr_curves.curves.{cls}.{kind}.{strictness}"
                if not isinstance(diffs, dict):
                    raise ValueError(f"field {where}: expected an object")
                for diff, prec in diffs.items():
                    if (
                        not isinstance(prec, list)
                        or len(prec) != len(recall)
                        or not all(is_number(p) for p in prec)
                    ):
                        raise ValueError(
                            f"field {where}.{diff}: expected {len(recall)} numbers "
                            "(one per recall position)"
                        )
                    out.setdefault(str(cls), {}).setdefault(str(kind), {}).setdefault(
                        str(strictness), {}
                    )[str(diff)] = [float(p) for p in prec]
    return {"recall_positions": [float(r) for r in recall], "curves": out}


def _kitti_ap40(summary: dict[str, Any]) -> dict[str, float]:
    """``"Car BEV moderate"`` -> strict AP40 (percent), for the curve legends."""
    out = {}
    for name, diffs in summary["kitti_ap"].items():
        for diff, value in diffs.items():
            out[f"{name.removesuffix(' AP40')} {diff}"] = value
    return out


def _headline(
    run: RunData,
    baseline: RunData | None,
    comparison: Comparison | None,
    tracking: list[dict[str, Any]],
    baseline_tracking: list[dict[str, Any]],
    detection_pairs: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The main figures: per planner, on the common runs, per tracking table and per
    detection result (:func:`~drivestack.report.detection.headline`, the baseline's from
    ``detection_pairs``), with the baseline's where the two are comparable."""
    lines: list[dict[str, Any]] = []
    # means over disjoint scenario sets are not compared: no baseline figure without common runs
    comparable = baseline is not None and comparison is not None and bool(comparison.common)
    for planner, s in _per_planner(run.rows).items():
        base = _per_planner(baseline.rows).get(planner) if baseline and comparable else None
        unscored = s["n"] - s["scored"]
        lines.append(
            {
                "name": f"{planner}: mean score",
                "value": s["mean_score"],
                "baseline": base["mean_score"] if base else None,
                "anchor": None,
                # said where it is not the mean of every run (the page shows it by the name)
                **(
                    {"note": f"of the {s['scored']} scored runs; {unscored} crashed or unreadable"}
                    if unscored
                    else {}
                ),
            }
        )
        lines.append(
            {
                "name": f"{planner}: passed / runs",
                "value": f"{s['passed']} / {s['n']}",
                "baseline": f"{base['passed']} / {base['n']}" if base else None,
                "anchor": None,
            }
        )
    if comparison is not None and comparison.common:
        lines.append(
            {
                "name": f"mean score on the {len(comparison.common)} common runs",
                "value": comparison.mean_score,
                "baseline": comparison.baseline_mean_score,
                "anchor": None,
            }
        )
    for t in tracking:
        for tb in t["tables"]:
            if not tb["rows"]:
                continue
            row = tb["rows"].get("Overall") or next(iter(tb["rows"].values()))
            label = "Overall" if "Overall" in tb["rows"] else next(iter(tb["rows"]))
            pub = tb["published"].get(label, {})
            base_tb = baseline_table(baseline_tracking, t["file"], tb)
            no_labels = set(tb.get("no_labels", ()))
            unlabelled = (
                ", n/a: no labelled objects"
                if no_labels and (label in no_labels or no_labels >= set(tb["rows"]) - {"Overall"})
                else ""
            )
            lines.append(
                {
                    "name": f"tracking {label} sAMOTA ({table_title(tb)}{unlabelled})",
                    "value": row["sAMOTA"],
                    "baseline": base_tb["rows"].get(label, {}).get("sAMOTA") if base_tb else None,
                    "anchor": pub.get("sAMOTA"),
                    "anchor_name": _anchor_name(
                        pub.get("sAMOTA"), tb.get("published_name") or "AB3DMOT"
                    ),
                }
            )
            if row.get("HOTA") is not None:
                hota = tb.get("hota_anchor") or {}
                base_hota = base_tb["rows"].get(label, {}).get("HOTA") if base_tb else None
                hota_anchor = hota.get("rows", {}).get(label, {}).get("HOTA")
                lines.append(
                    {
                        "name": f"tracking {label} HOTA ({table_title(tb)})",
                        "value": row["HOTA"],
                        "baseline": base_hota,
                        "anchor": hota_anchor,
                        "anchor_name": _anchor_name(hota_anchor, hota.get("name")),
                    }
                )
    lines += detection_headline(run.detection, detection_pairs)
    return lines


def _anchor_name(anchor: object, name: object) -> str | None:
    """Where a headline's published anchor comes from (``B1, PUBLISHED_RESULTS.md``); None
    when there is no anchor (or it has no name)."""
    if anchor is None or not name:
        return None
    return f"{name}, PUBLISHED_RESULTS.md"


def _kind_warnings(
    run: RunData,
    baseline: RunData | None,
    comparison: Comparison | None,
    tracking: list[dict[str, Any]],
    baseline_tracking: list[dict[str, Any]],
    detection_pairs: list[dict[str, Any]],
    eval_pairs: list[dict[str, Any]],
) -> list[str]:
    """A warning when the run and its baseline share nothing to compare (no common scenario
    run, no common tracking table, no pair of detection, prediction or planning results
    (``eval_pairs``): a pair that is not comparable has its own warning), saying so when
    their kinds differ."""
    if baseline is None or comparison is None:
        return []
    shared_table = any(
        baseline_table(baseline_tracking, t["file"], tb) is not None
        for t in tracking
        for tb in t["tables"]
    )
    if comparison.common or shared_table or detection_pairs or eval_pairs:
        return []
    why = (
        "their runs of the same name ran with other params"
        if comparison.not_comparable
        else "their runs of the same name ran their recorded traffic another way"
        if comparison.other_agents
        else "their kinds differ"
        if run.kind != baseline.kind
        else "no run in common"
    )
    return [
        f"the run ({run.kind}, {run.root}) and the baseline ({baseline.kind}, {baseline.root}) "
        f"share nothing to compare: {why}; no score difference is shown"
    ]


def _detail_keys(
    rows: tuple[ScenarioRow, ...], regressed: set[str], root: Path, limit: int
) -> list[str]:
    """The runs drawn in detail (regressions first), at most ``limit``: those with a
    ``history.npz`` that is not already known to be damaged."""
    drawable = [r for r in rows if "corrupt history.npz" not in r.error]
    ordered = [r.key for r in drawable if r.key in regressed] + [
        r.key for r in drawable if r.key not in regressed
    ]
    keys = [k for k in ordered if (root / k / "history.npz").exists()]
    return keys[:limit]


def _scenario_figures(
    run: RunData,
    key: str,
    maps: MapCache,
    problems: list[str],
    canvases: tuple[plots.BevFigure, plots.SignalsFigure] | None,
    lit_signals: dict[str, plots.SignalsFigure],
) -> tuple[dict[str, str], dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    """The bird's-eye and signal figures of one run, the scenario config it ran with, when
    its map or history has traffic lights what the view shows of them
    (:mod:`~drivestack.report.light_view`), else None, and what its history tells of its score
    (``{"comfort": the comfort bound broken or None, "lead": the closest the nearest agent
    ahead came (:meth:`~drivestack.report.lead.LeadTrace.closest`)}``; ``{}`` when the history
    does not read) (drawn on ``canvases`` when given: figures reused from run to run; a run
    with lights' signals on ``lit_signals["canvas"]``, made on first use)."""
    import json

    from drivestack.eval.driving.nuplan import TTC_BOUND_S, min_time_to_collision_s

    folder = run.root / key
    try:
        history = load_history(folder / "history.npz")
    except DataError as exc:
        problems.append(str(exc))
        return {}, None, None, {}
    config = None
    events = None
    with contextlib.suppress(OSError, ValueError, AttributeError):  # reported in the table
        record = json.loads((folder / "metrics.json").read_text())
        config = record.get("config")
        red = record.get("red_light")
        events = red.get("events") if isinstance(red, dict) else None
    road_map = maps.road_map(config)
    ttc = min_time_to_collision_s(history, road_map=road_map)  # as the run's metrics
    lights = light_view(history, road_map, events)
    lead = lead_trace(history)
    bev, signals = canvases or (plots.BevFigure(), plots.SignalsFigure())
    if lights is not None and lights.rows:
        signals = lit_signals.setdefault("canvas", plots.SignalsFigure(lights=True))
    figures = {
        "bev": plots.to_data_uri(bev.draw(history, road_map, key, lights)),
        "signals": plots.to_data_uri(signals.draw(history, ttc, TTC_BOUND_S, lights, lead)),
    }
    told = {"comfort": comfort_breach(history), "lead": lead.closest(history.time_s)}
    return (
        figures,
        config if isinstance(config, dict) else None,
        lights.as_dict() if lights is not None else None,
        told,
    )


def _sweep_section(run: RunData, figures: dict[str, str]) -> dict[str, Any] | None:
    """Pass rates of a sweep's variants over its swept keys, per planner: a fleet's
    ``--sweep`` or a sim run's scenario-file sweeps
    (:func:`~drivestack.report.sweep.swept_rows`); None when the run swept nothing. Only
    the runs of base scenarios that were swept are aggregated (a suite's other scenarios
    are not variants)."""
    keys, rows = swept_rows(list(run.rows), run.manifest, run.kind)
    swept = [r for r in rows if r.params]
    if not swept:
        return None
    spans = sweep_spans(run.manifest, run.kind)
    by_param = pass_rate_by_param(swept, spans=spans)
    # the parameters set on the most runs (a suite's own sweeps can vary many fields)
    ranked = sorted(by_param, key=lambda k: (-sum(b["n"] for b in by_param[k]), k))
    by_param = {k: by_param[k] for k in ranked[:MAX_SWEEP_PARAMS]}
    section: dict[str, Any] = {
        "variants": len(swept),
        "keys": keys,
        # the declared ranges of range-swept keys, binned over them (fleet --sweep k=lo:hi)
        "spans": {k: list(v) for k, v in spans.items()},
        "source": "--sweep" if run.kind == "fleet" else "scenario sweep",
        "planners": sorted({r.planner for r in swept}),
        "by_param": by_param,
        "by_scenario": pass_rate_by_scenario(rows),
        "worst": [r.as_dict() for r in rows[:WORST_VARIANTS]],
        "heatmaps": [],
    }
    if by_param:
        figures["sweep_pass_rate"] = plots.to_data_uri(plots.pass_rate_figure(by_param))
    pair = heatmap_params(swept)
    if pair is None:
        return section
    for planner in section["planners"]:
        hm = heatmap([r for r in swept if r.planner == planner], *pair, spans=spans)
        if hm is None:
            continue
        figures[f"sweep_heatmap:{planner}"] = plots.to_data_uri(
            plots.heatmap_figure(hm, title=planner)
        )
        section["heatmaps"].append(
            {
                **hm,
                "planner": planner,
                "pass_rate": [
                    [None if np.isnan(v) else float(v) for v in row] for row in hm["pass_rate"]
                ],
                "n": np.asarray(hm["n"]).tolist(),
            }
        )
    return section


def _prediction_section(run: RunData, figures: dict[str, str]) -> list[dict[str, Any]]:
    """The prediction results (:func:`~drivestack.report.prediction.read_prediction`), each
    with its ADE-against-horizon figure per traffic kind (``prediction_ade:<file>:<kind>``)."""
    out = []
    for rel, result in run.prediction.items():
        out.append({"file": rel, **result})
        for traffic, models in result["metrics"].items():
            figures[f"prediction_ade:{rel}:{traffic}"] = plots.to_data_uri(
                plots.prediction_ade_figure(result["checkpoints_s"], models, f"{rel}, {traffic}")
            )
    return out


def _planning_section(run: RunData, figures: dict[str, str]) -> list[dict[str, Any]]:
    """The open-loop planning results (:func:`~drivestack.report.planning.read_planning`),
    each with the planners' average L2 error against the horizon over every instant
    (``ade_curves``; figure ``planning_ade:<file>``) and each instant's along the first
    :data:`MAX_LOG_PANELS` logs (figure ``planning_instants:<file>``)."""
    out = []
    for rel, result in run.planning.items():
        settings = result["settings"]
        planners = list(
            dict.fromkeys(
                [*result["planners"], *(p for log in result["logs"] for p in log["planners"])]
            )
        )
        curves = {
            p: open_loop.ade_curve(
                [
                    e
                    for log in result["logs"]
                    for e in log["planners"].get(p, {}).get("instants", [])
                ],
                settings,
            )
            for p in planners
        }
        recorded = {
            p: {h["horizon_s"]: h["average_l2_m"] for h in o["pooled"]["horizons"]}
            for p, o in result["overall"].items()
        }
        shorts = [log["short"] for log in result["logs"]]
        drawn = result["logs"][:MAX_LOG_PANELS]
        panels = {
            (log["short"] if shorts.count(log["short"]) == 1 else log["log"]): {
                h: {
                    p: open_loop.instant_ade(r["instants"], h, settings)
                    for p, r in log["planners"].items()
                }
                for h in settings["horizons_s"]
            }
            for log in drawn
        }
        if any(curves.values()):
            figures[f"planning_ade:{rel}"] = plots.to_data_uri(
                plots.planning_ade_figure(curves, recorded, f"{rel}: {len(result['logs'])} logs")
            )
        if panels:
            figures[f"planning_instants:{rel}"] = plots.to_data_uri(
                plots.planning_instants_figure(panels, planners, rel)
            )
        out.append(
            {
                "file": rel,
                **result,
                "ade_curves": {
                    p: {"horizon_s": t, "average_l2_m": y} for p, (t, y) in curves.items()
                },
                "logs_drawn": len(drawn),
            }
        )
    return out


def build_report(
    run_dir: Path,
    baseline_dir: Path | None = None,
    *,
    published: Path | None = None,
    data_root: Path | None = None,
    max_detail: int = DEFAULT_MAX_DETAIL,
    score_tolerance: float = DEFAULT_SCORE_TOLERANCE,
    error_tolerance_m: float = DEFAULT_ERROR_TOLERANCE_M,
) -> Report:
    """Everything of the report of ``run_dir`` (against ``baseline_dir``) (see the package doc).

    ``score_tolerance``: points (0-100) a score (sAMOTA, AP, OLS) may drop, or a miss rate
    rise, before it counts as a regression; ``error_tolerance_m``: metres a forecast's FDE or
    a planner's ADE may rise."""
    start = time.perf_counter()
    run = load_run(run_dir)
    require_results(run)
    baseline = load_run(baseline_dir) if baseline_dir is not None else None
    if baseline is not None:
        require_results(baseline, "baseline")
    problems = list(run.problems)
    if baseline is not None:
        problems.extend(f"baseline: {p}" for p in baseline.problems)
    tables_published = Published()
    if published is not None:
        try:
            tables_published = Published.read(published)
        except OSError as exc:
            problems.append(f"{published}: cannot read published results: {exc.strerror}")
        except UnicodeDecodeError as exc:
            problems.append(
                f"{published}: cannot read published results: not UTF-8 text ({exc.reason} "
                f"at byte {exc.start})"
            )
    comparison = (
        compare_rows(
            run.rows,
            baseline.rows,
            score_tolerance,
            match_params=run.kind == "fleet" and baseline.kind == "fleet",
        )
        if baseline
        else None
    )
    change = {c.key: c.kind for c in comparison.regressions} if comparison else {}
    improved = {c.key: c.kind for c in comparison.improvements} if comparison else {}
    figures: dict[str, str] = {}

    tracking = []
    for rel, result in run.tracking.items():
        tables = tracking_tables(result, published=tables_published)
        tracking.append(
            {
                "file": rel,
                "split": scored_span(result),
                "source": results_source(result),
                "tables": tables,
            }
        )
        for k, tb in enumerate(tables):
            figures[f"tracking:{rel}:{k}"] = plots.to_data_uri(
                plots.tracking_curves_figure(tb["curves"], f"{rel} {tb['name']}")
            )
    baseline_tracking = (
        [
            {"file": rel, "tables": tracking_tables(d, published=tables_published)}
            for rel, d in baseline.tracking.items()
        ]
        if baseline
        else []
    )
    detection = []
    for rel, result in run.detection.items():
        try:
            summary = _detection_summary(result)
        except ValueError as exc:
            problems.append(f"{run.root / rel}: {exc}; precision-recall curves not drawn")
            summary = _detection_summary({k: v for k, v in result.items() if k != "pr_curves"})
        detection.append({"file": rel, **summary})
        if summary["pr_curves"] is not None:
            figures[f"detection_pr:{rel}"] = plots.to_data_uri(
                plots.detection_pr_figure(summary["pr_curves"], _kitti_ap40(summary), rel)
            )

    detection_pairs, detection_drops, detection_warnings = (
        compare_detection(
            run.detection, baseline.detection, run.root, baseline.root, score_tolerance
        )
        if baseline
        else ([], [], [])
    )

    prediction = _prediction_section(run, figures)
    planning = _planning_section(run, figures)
    sim_perception, perception_problems = read_sim_perception(run.manifest.get("summary"))
    summary_file = run.root / (SUMMARY_NAME if run.kind == "fleet" else "summary.json")
    problems.extend(
        f"{summary_file}: {p}: its perception table not shown" for p in perception_problems
    )
    # what comparing prediction and open-loop planning results needs besides the two results
    compare_args = (run.root, baseline.root, score_tolerance, error_tolerance_m) if baseline else ()
    prediction_pairs, prediction_drops, prediction_warnings = (
        forecasts.compare_prediction(run.prediction, baseline.prediction, *compare_args)
        if baseline
        else ([], [], [])
    )
    planning_pairs, planning_drops, planning_warnings = (
        open_loop.compare_planning(run.planning, baseline.planning, *compare_args)
        if baseline
        else ([], [], [])
    )

    maps = MapCache(data_root)
    details = _detail_keys(run.rows, set(change), run.root, max_detail)
    detail_configs: dict[str, Any] = {}
    detail_lights: dict[str, Any] = {}
    canvases = (plots.BevFigure(), plots.SignalsFigure()) if details else None
    lit_signals: dict[str, plots.SignalsFigure] = {}
    told: dict[str, dict[str, Any]] = {}
    for key in details:
        scenario_figures, detail_configs[key], lights, told[key] = _scenario_figures(
            run, key, maps, problems, canvases, lit_signals
        )
        if lights is not None:
            detail_lights[key] = lights
        for name, uri in scenario_figures.items():
            figures[f"{name}:{key}"] = uri
    problems.extend(f"map not drawn: {e}" for e in maps.errors.values())
    sweep = _sweep_section(run, figures)

    rows = []
    for r in run.rows:
        d = r.as_dict()
        d["regression"] = change.get(r.key)
        d["improvement"] = improved.get(r.key)
        # what it lost points for (the comfort bound broken, for a run drawn in detail)
        d["score_terms"] = score_terms(
            r.nuplan, r.at_fault_with, told.get(r.key, {}).get("comfort")
        )
        rows.append(d)
    commit, version = runs_commit(run), runs_version(run)
    data: dict[str, Any] = {
        "title": f"drivestack report: {run.root.name}",
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "drivestack_version": version or __version__,
        "drivestack_version_recorded": version is not None,
        "report_drivestack_version": __version__,
        "git_commit": commit,
        "eval_commands": _eval_values(run, "command"),
        "report_git_commit": _report_commit(commit),
        "run": {"path": str(run.root), "kind": run.kind, "manifest": run.manifest},
        "baseline": {"path": str(baseline.root), "kind": baseline.kind} if baseline else None,
        "counts": _counts(run),
        "per_planner": _per_planner(run.rows),
        "headline": _headline(
            run, baseline, comparison, tracking, baseline_tracking, detection_pairs
        )
        + forecasts.headline(run.prediction, prediction_pairs)
        + open_loop.headline(run.planning, planning_pairs)
        + detection2d.headline(run.detection2d, baseline.detection2d if baseline else None),
        "comparison": comparison.as_dict() if comparison else None,
        "tracking_regressions": (
            tracking_regressions(tracking, baseline_tracking, score_tolerance) if baseline else None
        ),
        "detection_comparison": detection_pairs,
        "detection_regressions": detection_drops if baseline else None,
        "prediction_comparison": prediction_pairs,
        "prediction_regressions": prediction_drops if baseline else None,
        "planning_comparison": planning_pairs,
        "planning_regressions": planning_drops if baseline else None,
        "score_tolerance": score_tolerance,
        "error_tolerance_m": error_tolerance_m,
        # min_ttc_s is null (shown –) when no projected collision lies within this horizon
        "ttc_horizon_s": TTC_HORIZON_S,
        "rows": rows,
        "details": details,
        "detail_configs": detail_configs,
        # per run drawn: the closest the nearest agent ahead came (gap_m, time_s, speed_mps)
        "detail_lead": {k: t["lead"] for k, t in told.items() if t},
        "sweep": sweep,
        "tracking": tracking,
        "detection": detection,
        "detection2d": [{"file": rel, **result} for rel, result in run.detection2d.items()],
        "prediction": prediction,
        "planning": planning,
        "replay": [{"file": rel, **checked} for rel, checked in run.replay.items()],
        "sim_perception": sim_perception,
        "max_log_panels": MAX_LOG_PANELS,
        "published_results": str(published) if published else None,
        "problems": problems,
        "warnings": _kind_warnings(
            run,
            baseline,
            comparison,
            tracking,
            baseline_tracking,
            detection_pairs,
            [*prediction_pairs, *planning_pairs],
        )
        + detection_warnings
        + prediction_warnings
        + planning_warnings
        + _history_warnings(run)
        + _max_steps_warnings(run, baseline)
        + _sweep_warnings(run, baseline, comparison)
        + _agents_warnings(run, baseline, comparison)
        + _config_warnings(run, baseline, comparison)
        + _agents_unknown_warnings(comparison),
    }
    if detail_lights:  # only when some drawn run has traffic lights
        data["detail_lights"] = detail_lights
    data["build_time_s"] = time.perf_counter() - start
    return Report(data, figures)


def write_report(report: Report, out_html: Path) -> tuple[Path, Path]:
    """Write ``out_html`` (self-contained) and the JSON beside it (``.json``, strict: undefined
    figures are ``null``, never ``NaN``); return both."""
    from drivestack.core.json_values import strict_dumps
    from drivestack.report.html import render_html

    out_html.parent.mkdir(parents=True, exist_ok=True)
    out_html.write_text(render_html(report))
    out_json = out_html.with_suffix(".json")
    out_json.write_text(strict_dumps(report.data))
    return out_html, out_json
