"""The page's motion-forecast (``drivestack eval prediction``) and open-loop planning
(``drivestack eval planning``) sections, and their regressions against a baseline.

Each result: what it ran with (dataset, split, settings, models and a learned model's
checkpoint), its tables, its figures (inline PNG), its notes, and against a comparable
baseline the full table of changes with those beyond the tolerances marked.
"""

from __future__ import annotations

from html import escape
from typing import Any

from drivestack.core.json_values import strict_dumps
from drivestack.report.html_cells import comparison_of, fmt, img, kv_table, not_compared, td
from drivestack.report.planning import SCORE_PARTS
from drivestack.report.prediction import MULTIMODAL, columns

#: The nuPlan open-loop definitions, in one sentence.
NUPLAN_SENTENCE = (
    "At every whole second of a recorded drive the planner plans once from the recorded "
    "situation and its trajectory is compared with what the human drove next, at the box "
    "centre in 1 s steps up to each horizon: ADE / FDE are the average / final L2 error, "
    "AHE / FHE the average / final heading error, the miss rate the share of instants whose "
    "largest error exceeds the horizon's threshold, and the open-loop score (OLS, 0-1) is the "
    "miss multiplier (1 when every horizon misses at most the allowed share) times the "
    "weighted mean of the bounded scores max(0, 1 - error / bound)"
)


def _horizon_text(result: dict[str, Any]) -> str:
    s = result["settings"]
    return (
        f"history {s['history_s']:g} s, horizon {s['horizon_s']:g} s, anchors every "
        f"{s['stride_s']:g} s, velocity fitted over {s['fit_window_s']:g} s"
    )


def prediction_section(d: dict[str, Any], figures: dict[str, str]) -> str:
    """One block per prediction result: settings and provenance, a table per traffic kind,
    class group and motion (a row per model), the ADE figure, the notes, the comparison."""
    results = d.get("prediction") or []
    if not results:
        return ""
    html = ['<h2 id="prediction">Motion forecasts</h2>']
    for r in results:
        s = r["settings"]
        split = f", split {r['split']}" if r.get("split") else ""
        html.append(
            f'<div class="prediction" data-file="{escape(r["file"], quote=True)}">'
            f"<h3>{escape(r['file'])}: {escape(r['dataset'])}{escape(split)}</h3>"
        )
        facts: list[tuple[str, Any]] = [
            ("dataset", r["dataset"] + split),
            ("pasts", "the tracker's tracks" if r["pasts"] == "tracks" else "ground-truth labels"),
            ("data folder", r.get("root")),
            ("cases", _horizon_text(r)),
            ("miss", f"FDE at the horizon > {fmt(s.get('miss_threshold_m'))} m"),
            (
                "moving",
                f"true displacement over the horizon >= {fmt(s.get('moving_displacement_m'))} m",
            ),
            (
                "recordings",
                f"{len(r['recordings'])}, cases {', '.join(f'{k} {v}' for k, v in r['cases'].items()) or 'none'}",
            ),
        ]
        for m in r["models"]:
            k = m.get("modes", 1)
            what = f"{m.get('description') or ''} ({f'K = {k} modes' if k > 1 else 'one mode'})"
            if m.get("checkpoint"):
                trained = m.get("trained_on") or {}
                what += f"; checkpoint {m['checkpoint']}; trained on " + (
                    ", ".join(f"{k} {v}" for k, v in trained.items()) or "not recorded"
                )
            facts.append((f"model {m['name']}", what))
        html.append(kv_table(facts))
        names = columns(r)
        modes = {m["name"]: m.get("modes", 1) for m in r["models"]}
        for traffic, models in r["metrics"].items():
            html.append(
                f"<h4>{escape(traffic)} traffic: {r['cases'].get(traffic, 0)} cases, metres</h4>"
            )
            uri = figures.get(f"prediction_ade:{r['file']}:{traffic}")
            if uri:
                html.append(img(uri, f"ADE against horizon, {traffic}"))
            cells = list(
                dict.fromkeys(
                    (g, m) for groups in models.values() for g, ms in groups.items() for m in ms
                )
            )
            for group, motion in cells:
                rows = {
                    model: groups[group][motion]
                    for model, groups in models.items()
                    if groups.get(group, {}).get(motion, {}).get("cases")
                }
                if not rows:
                    continue
                multi = any(modes.get(model, 1) > 1 for model in rows)
                head = ["model", "cases", *names]
                if multi:
                    head += ["minADE_K", "minFDE_K", "brier-minFDE_K", "miss rate K"]
                html.append(
                    f'<table class="prediction-table" data-cell="{escape(traffic)}/'
                    f'{escape(group)}/{escape(motion)}"><caption>{escape(group)}, '
                    f"{escape(motion)}</caption><thead><tr>"
                    + "".join(
                        f"<th{' class=l' if h == 'model' else ''}>{h.replace('_', ' ')}</th>"
                        for h in head
                    )
                    + "</tr></thead><tbody>"
                )
                for model, row in rows.items():
                    k = modes.get(model, 1)
                    label = f"{model} (K = {k})" if k > 1 else model
                    cells_html = td(label, css="l") + td(row["cases"], digits=0)
                    cells_html += "".join(td(row.get(c), digits=3) for c in names)
                    if multi:
                        cells_html += "".join(
                            td(row.get(c) if k > 1 else None, digits=3) for c in MULTIMODAL
                        )
                    html.append(f"<tr>{cells_html}</tr>")
                html.append("</tbody></table>")
        html.append(
            '<p class="note">Argoverse 2 definitions on centre xy: ADE / FDE of the most '
            "probable mode, miss rate the share of cases with FDE above the threshold; for a "
            "multi-modal model minADE_K / minFDE_K of the mode with the smallest final error "
            "and brier-minFDE_K adds (1 - its probability)².</p>"
        )
        html += [f'<p class="note">{escape(n)}.</p>' for n in r["notes"]]
        html.append(
            "<details><summary>recordings</summary><table><thead><tr><th class=l>recording</th>"
            "<th class=l>traffic</th><th>cases</th><th class=l>map</th>"
            "<th class=l>models not run</th></tr></thead><tbody>"
            + "".join(
                f"<tr>{td(x['name'], css='l')}{td(x['traffic'], css='l')}"
                f"{td(x['cases'], digits=0)}{td(x['has_map'], css='l')}"
                f"{td(', '.join(x['models_not_run']), css='l')}</tr>"
                for x in r["recordings"]
            )
            + "</tbody></table></details>"
        )
        html.append(_against_baseline(d, "prediction", r["file"]))
        html.append("</div>")
    return "".join(html)


def planning_section(d: dict[str, Any], figures: dict[str, str]) -> str:
    """One block per open-loop planning result: the definitions, the errors and the scores
    per planner and log (and over all logs), the ADE-against-horizon figure, the per-instant
    figure, the notes (the small-sample one among them), the comparison."""
    results = d.get("planning") or []
    if not results:
        return ""
    html = [
        '<h2 id="planning">Open-loop planning</h2>'
        f'<p class="note">nuPlan open loop (challenge 1): {escape(NUPLAN_SENTENCE)}.</p>'
    ]
    for r in results:
        s = r["settings"]
        hs = "/".join(f"{h:g}" for h in s["horizons_s"])
        html.append(
            f'<div class="planning" data-file="{escape(r["file"], quote=True)}">'
            f"<h3>{escape(r['file'])}: {escape(r['dataset'])}, {len(r['logs'])} logs</h3>"
        )
        html.append(
            kv_table(
                [
                    ("dataset", r["dataset"]),
                    ("data folder", r.get("root")),
                    ("planners", ", ".join(r["planners"])),
                    ("horizons", f"{hs} s, samples every {s['sample_interval_s']:g} s"),
                    (
                        "miss thresholds",
                        f"{s.get('miss_thresholds_m')} m, at most {s.get('max_miss_rate')} of the instants",
                    ),
                    (
                        "bounds",
                        f"ADE {s.get('max_average_l2_error_m')} m, FDE {s.get('max_final_l2_error_m')} m, AHE {s.get('max_average_heading_error_rad')} rad, FHE {s.get('max_final_heading_error_rad')} rad",
                    ),
                    ("score weights", strict_dumps(s.get("score_weights"), indent=None)),
                ]
            )
        )
        rows: list[tuple[str, str, dict[str, Any]]] = [
            (p, log["short"], res) for log in r["logs"] for p, res in log["planners"].items()
        ]
        rows += [
            (
                p,
                "all",
                {
                    **o["pooled"],
                    "score": o["score"],
                    "weighted_score": None,
                    "miss_rate_within_bound": None,
                },
            )
            for p, o in r["overall"].items()
        ]
        err_head = ["instants", "ADE m", "FDE m", "AHE rad", "FHE rad", "miss rate"]
        html.append(
            '<h4>Errors per planner and log</h4><table class="sortable planning-errors">'
            "<thead><tr><th class=l>planner</th><th class=l>log</th>"
            + "".join(f"<th>{h} @{hs} s</th>" for h in err_head)
            + "</tr></thead><tbody>"
        )
        for planner, log, res in rows:
            instants = "/".join(str(h["instants"]) for h in res["horizons"])
            cells = [td(planner, css="l"), td(log, css="l"), td(instants)]
            for key, digits in (
                ("average_l2_m", 2),
                ("final_l2_m", 2),
                ("average_heading_rad", 3),
                ("final_heading_rad", 3),
                ("miss_rate", 2),
            ):
                values = "/".join(fmt(h.get(key), digits) for h in res["horizons"])
                cells.append(f'<td data-v="{escape(values)}">{values}</td>')
            html.append(f"<tr>{''.join(cells)}</tr>")
        html.append("</tbody></table>")
        html.append(
            '<h4>Score parts and OLS</h4><table class="sortable planning-scores"><thead><tr>'
            "<th class=l>planner</th><th class=l>log</th>"
            + "".join(f"<th>{p.replace('_', ' ')}</th>" for p in SCORE_PARTS)
            + "<th>miss multiplier</th><th>weighted mean</th><th>OLS</th></tr></thead><tbody>"
        )
        for planner, log, res in rows:
            html.append(
                f"<tr>{td(planner, css='l')}{td(log, css='l')}"
                + "".join(td(res["scores"].get(p), digits=3) for p in SCORE_PARTS)
                + td(res["miss_rate_within_bound"], digits=0)
                + td(res["weighted_score"], digits=3)
                + td(res["score"], digits=3)
                + "</tr>"
            )
        html.append(
            "</tbody></table><p class=note>Rows <i>all</i>: errors and miss rates over every "
            "instant of every log; their OLS is the mean of the logs' OLS (nuPlan's challenge "
            "score).</p>"
        )
        uri = figures.get(f"planning_ade:{r['file']}")
        if uri:
            html.append(
                "<h4>Average L2 error against the horizon</h4><p>Over every instant of every "
                "log that covers the horizon; squares: the ADE at nuPlan's horizons as "
                "recorded.</p>" + img(uri, "average L2 error against horizon")
            )
        uri = figures.get(f"planning_instants:{r['file']}")
        if uri:
            more = len(r["logs"]) - r["logs_drawn"]
            html.append(
                "<h4>Errors along each log</h4><p>Each instant's average L2 error up to each "
                "horizon (instants the log covers)"
                + (f"; the first {r['logs_drawn']} logs, {more} more in the JSON" if more else "")
                + ".</p>"
                + img(uri, "per-instant errors along each log")
            )
        html += [f'<p class="note">{escape(n)}.</p>' for n in r["notes"]]
        html.append(_against_baseline(d, "planning", r["file"]))
        html.append("</div>")
    return "".join(html)


def _change_row(row: dict[str, Any], keys: list[str]) -> str:
    """A compared figure's row: its ``keys`` cells, metric, baseline, value and Δ, marked by
    its ``change`` (a regression's row and Δ as worse, an improvement's as better)."""
    change = row["change"]
    worse = "worse" if change == "regression" else "better" if change else ""
    return (
        f'<tr class="{change or ""}">'
        + "".join(td(row[k], css="l") for k in keys)
        + td(row["metric"], css="l")
        + td(row["baseline"], digits=3)
        + td(row["value"], digits=3)
        + td(row["delta"], digits=3, css=worse)
        + "</tr>"
    )


def _against_baseline(d: dict[str, Any], kind: str, file: str) -> str:
    """The full table of one result against the baseline's (when paired): every figure
    compared, the changes beyond the tolerances marked; a warning when not comparable."""
    compared = comparison_of(d, f"{kind}_comparison", file)
    if compared is None:
        return ""
    c, where = compared
    if not c["comparable"]:
        return (
            f'<p class="warning">Not compared with the baseline ({where}): its settings '
            f"differ ({escape(c['not_comparable'])}).</p>"
        )
    keys = ["traffic", "model", "group", "motion"] if kind == "prediction" else ["planner", "log"]
    html = [
        f"<h4>Against the baseline ({where})</h4><p>Changes beyond "
        f"{d['error_tolerance_m']:g} m (errors) or {d['score_tolerance']:g} points "
        "(miss rates, OLS) marked.</p>"
        f'<table class="sortable {kind}-compare"><thead><tr>'
        + "".join(f"<th class=l>{k}</th>" for k in keys)
        + "<th class=l>metric</th><th>baseline</th><th>this run</th><th>Δ</th></tr></thead><tbody>"
    ]
    html += [_change_row(row, keys) for row in c["rows"]]
    html.append("</tbody></table>")
    html.append(not_compared(c["only_in_run"], c["only_in_baseline"]))
    return "".join(html)


def regressions(d: dict[str, Any]) -> str:
    """The prediction and planning figures that got worse beyond the tolerances (of the
    comparable results; nothing when none was compared)."""
    html = []
    for kind, keys, what in (
        ("prediction", ["file", "traffic", "model", "group", "motion"], "Forecast errors"),
        ("planning", ["file", "planner", "log"], "Open-loop planning figures"),
    ):
        compared = [c for c in d.get(f"{kind}_comparison") or [] if c["comparable"]]
        if not compared:
            continue
        changes = d.get(f"{kind}_regressions") or []
        if not changes:
            html.append(
                f"<p>{what}: no regressions ({sum(len(c['rows']) for c in compared)} figures "
                "compared).</p>"
            )
            continue
        html.append(
            f"<h3>{what} that got worse</h3>"
            f'<table class="sortable regressions {kind}-regressions"><thead><tr>'
            + "".join(f"<th class=l>{k}</th>" for k in keys)
            + "<th class=l>metric</th><th>baseline</th><th>now</th><th>Δ</th></tr></thead><tbody>"
        )
        html += [_change_row(row, keys) for row in changes]
        html.append("</tbody></table>")
    return "".join(html)
