"""Report sections of the stack's own scores: log replays (``drivestack replay`` summaries,
:mod:`~drivestack.report.replay`) and the perception / tracking figures of a ``drivestack sim
--perception lidar`` run (:mod:`~drivestack.report.perception`). A replay's KITTI tracking and
detection scores are shown by the report's tracking and detection sections."""

from __future__ import annotations

from html import escape
from typing import Any

from drivestack.report.html_cells import kv_table, td
from drivestack.report.replay import TIMING_STATS, kitti_span
from drivestack.report.tracking import percent


def replay_section(d: dict[str, Any]) -> str:
    """One block per replay summary: the run's facts, stage times, detections, tracks and
    forecasts against the log's labels (each table only when the replay wrote it)."""
    replays = d.get("replay") or []
    if not replays:
        return ""
    html = [
        '<h2 id="replay">Log replays</h2><p>drivestack replay summaries (RUN.summary.json '
        "beside RUN.mcap); a KITTI log's tracking and detection scores are in the Tracking "
        "and Detection sections.</p>"
    ]
    for r in replays:
        kitti = r["kitti"]
        facts = [
            ("input", r["input"]),
            ("output", r["output"]),
            ("frames replayed", r["frames_processed"]),
            ("frames skipped", r["frames_skipped"]),
            ("log duration s", r["log_duration_s"]),
            ("wall clock s", r["wall_s"]),
            ("real-time factor", r["realtime_factor"]),
            ("clean", r["clean"]),
            ("KITTI scores", kitti_span(kitti) if kitti else "none (not a KITTI log)"),
        ]
        if r.get("kitti_results"):
            facts.append(("KITTI result files (--kitti-results)", r["kitti_results"]))
        html.append(
            f'<div class="replay" data-file="{escape(r["file"], quote=True)}">'
            f"<h3>{escape(r['file'])}</h3>{kv_table(facts)}"
        )
        html.append(_timing(r["timing_ms"]))
        if r["detection_vs_labels"] is not None:
            html.append(_detections(r["detection_vs_labels"]))
        if r.get("tracking_vs_labels") is not None:
            html.append(_tracking(r["tracking_vs_labels"]))
        if r["forecast_vs_labels"] is not None:
            html.append(_forecasts(r["forecast_vs_labels"]))
        html.append("</div>")
    return "".join(html)


def _timing(timing: dict[str, dict[str, float | None]]) -> str:
    if not timing:
        return ""
    head = "".join(f"<th>{s}</th>" for s in TIMING_STATS)
    rows = "".join(
        f"<tr>{td(stage, css='l')}{''.join(td(stats[s]) for s in TIMING_STATS)}</tr>"
        for stage, stats in timing.items()
    )
    return (
        '<h4>Stage times (ms, wall clock)</h4><table class="replay-timing"><thead><tr>'
        f"<th class=l>stage</th>{head}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _detections(rows: dict[str, dict[str, Any]]) -> str:
    body = "".join(
        f"<tr>{td(cls, css='l')}{td(r['labels'])}{td(r['detections'])}"
        f"{td(percent(r['recall']), digits=1)}{td(percent(r['precision']), digits=1)}"
        f"{td(r['outside_labelled_region'])}{td(r['on_ignored_labels'])}</tr>"
        for cls, r in rows.items()
    )
    return (
        '<h4>Detections against the log\'s labels</h4><table class="replay-detection">'
        "<thead><tr><th class=l>class</th><th>labels</th><th>detections</th><th>recall %</th>"
        "<th>precision %</th><th>outside labelled region</th><th>on ignored labels</th></tr>"
        f"</thead><tbody>{body}</tbody></table><p class=note>– : undefined (no label or no "
        "detection of the class).</p>"
    )


def _tracking(t: dict[str, Any]) -> str:
    rates = ("MOTA", "MOTP", "HOTA", "DetA", "AssA", "LocA")
    counts = ("IDSW", "Frag", "FP", "FN", "MT", "PT", "ML")
    body = "".join(
        f"<tr>{td(cls, css='l')}{td(r['n_labels'])}{td(r['n_tracks'])}"
        + "".join(td(percent(r[k]), digits=1) for k in rates)
        + "".join(td(r[k]) for k in counts)
        + f"{td(r['outside_labelled_region'])}{td(r['on_ignored_labels'])}</tr>"
        for cls, r in t["by_class"].items()
    )
    head = "".join(f"<th>{k} %</th>" for k in rates) + "".join(f"<th>{k}</th>" for k in counts)
    return (
        f"<h4>Tracks against the labels' ids ({t['frames_scored']} frames, "
        f"{escape(t['similarity'])} {td_text(t['iou_threshold'])})</h4><p>CLEAR-MOT as "
        "TrackEval computes it and HOTA, per class; frames without label ids not scored: "
        f"{t['frames_without_label_ids']}.</p>"
        '<table class="replay-tracking"><thead><tr><th class=l>class</th><th>labelled '
        f"objects</th><th>tracks</th>{head}<th>outside labelled region</th><th>on ignored "
        f"labels</th></tr></thead><tbody>{body}</tbody></table><p class=note>– : undefined "
        "(MOTA without labels, MOTP without a match).</p>"
    )


def _forecasts(f: dict[str, Any]) -> str:
    columns = list(dict.fromkeys(k for row in f["by_class"].values() for k in row if k != "cases"))
    body = "".join(
        f"<tr>{td(group, css='l')}{td(int(row['cases']))}"
        + "".join(td(row.get(c), digits=3) for c in columns)
        + "</tr>"
        for group, row in f["by_class"].items()
    )
    counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in f["counts"].items())
    return (
        f"<h4>Forecasts against the labels ({td_text(f['horizon_s'])} s horizon)</h4>"
        f"<p>Matched to a label within {td_text(f['match_distance_m'])} m; a miss beyond "
        f"{td_text(f['miss_threshold_m'])} m. {escape(counts)}.</p>"
        '<table class="replay-forecast"><thead><tr><th class=l>class, motion</th><th>cases</th>'
        + "".join(f"<th>{escape(c)}</th>" for c in columns)
        + f"</tr></thead><tbody>{body}</tbody></table><p class=note>ADE / FDE in metres, "
        "miss rate a fraction.</p>"
    )


def td_text(value: float | None) -> str:
    """A number as short text (``3``, ``0.5``), ``–`` when undefined."""
    return "–" if value is None else f"{value:g}"


def sim_perception_section(d: dict[str, Any]) -> str:
    """Per planner of a ``drivestack sim --perception lidar`` run: detection and tracking
    against the true agents, class by class (percent; counts)."""
    per = d.get("sim_perception") or {}
    if not per:
        return ""
    html = [
        '<h2 id="perception">Perception and tracking</h2><p>The stack in the loop (drivestack '
        "sim --perception lidar): its detections and tracks against the simulated agents over "
        "every frame of the planner's runs (summary.json perception_metrics). AP, recall, "
        "precision and MOTA in percent, MOTP in metres, AVE (mean tracked velocity error) in "
        "m/s; – where undefined (no agent of the class).</p>"
    ]
    for planner, p in per.items():
        html.append(
            f'<h3>{escape(planner)}: {p["frames"]} frames</h3><table class="sim-perception" '
            f'data-planner="{escape(planner, quote=True)}"><thead><tr><th class=l>class</th>'
            "<th>AP</th><th>recall</th><th>precision</th><th>TP</th><th>FP</th><th>GT</th>"
            "<th>MOTA</th><th>MOTP m</th><th>AVE m/s</th><th>IDS</th><th>track FP</th><th>track FN</th>"
            "</tr></thead><tbody>"
        )
        for cls, row in p["classes"].items():
            det = row.get("detection") or {}
            trk = row.get("tracking") or {}
            cells = [td(cls, css="l")]
            cells += [td(percent(det.get(k)), digits=1) for k in ("AP", "recall", "precision")]
            cells += [td(det.get(k)) for k in ("TP", "FP", "GT")]
            cells += [
                td(percent(trk.get("MOTA")), digits=1),
                td(trk.get("MOTP_m")),
                td(trk.get("AVE_mps")),
            ]
            cells += [td(trk.get(k)) for k in ("IDS", "FP", "FN")]
            html.append(f"<tr>{''.join(cells)}</tr>")
        html.append("</tbody></table>")
    return "".join(html)
