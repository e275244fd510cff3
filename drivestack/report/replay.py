"""Log replays in a report: the ``RUN.summary.json`` that ``drivestack replay`` writes beside
its ``RUN.mcap``.

:func:`is_replay` tells such a summary by its fields; :func:`read_replay` checks every field
the report shows (each bad value a ``ValueError`` naming its dotted field, as
:mod:`~drivestack.report.fields` does): the run (frames replayed and skipped, wall clock,
real-time factor), the stage times (``timing_ms``), detections against the log's labels
(``detection_vs_labels``), tracks against the labels' ids (``tracking_vs_labels``: CLEAR-MOT
and HOTA per class), forecasts against the labels (``forecast_vs_labels``) and, for a
KITTI tracking log, the KITTI scores (``kitti``: object detection APs and the 3D-MOT tracking
figures of the frames replayed). :func:`kitti_results` turns the ``kitti`` block into the
tracking and detection results ``drivestack eval`` writes, so that the report's tracking and
detection tables (and their baseline comparisons) show them unchanged.
"""

from __future__ import annotations

from typing import Any

from drivestack.report.fields import count, number, obj, required_number, text

#: How a replay summary's file name ends (``RUN.summary.json`` beside ``RUN.mcap``).
SUMMARY_SUFFIX = ".summary.json"
#: The stage time statistics shown (``timing_ms.<stage>.<stat>``, milliseconds).
TIMING_STATS = ("p50", "p95", "p99", "max", "mean")
#: The counts of ``detection_vs_labels.<class>``.
DETECTION_COUNTS = ("labels", "detections", "outside_labelled_region", "on_ignored_labels")
#: The counts of ``forecast_vs_labels`` shown besides its per-class errors.
FORECAST_COUNTS = (
    "cases",
    "forecasts",
    "matched",
    "unmatched_tracks",
    "unmatched_labels",
    "no_label_future",
    "past_log_end",
    "truth_frames_missing",
)


#: The counts of ``tracking_vs_labels.by_class.<class>``.
TRACKING_COUNTS = (
    "TP",
    "FP",
    "FN",
    "IDSW",
    "Frag",
    "MT",
    "PT",
    "ML",
    "n_labels",
    "n_tracks",
    "label_boxes",
    "track_boxes",
    "outside_labelled_region",
    "on_ignored_labels",
)
#: Its figures (fractions; null where undefined: MOTA and MODA without labels, MOTP without a
#: true positive).
TRACKING_FIGURES = (
    "MOTA",
    "MOTP",
    "MODA",
    "HOTA",
    "DetA",
    "AssA",
    "LocA",
    "DetRe",
    "DetPr",
    "AssRe",
    "AssPr",
)


def is_replay(data: object) -> bool:
    """Whether ``data`` is a ``drivestack replay`` summary (``frames_processed`` and
    ``timing_ms``)."""
    return isinstance(data, dict) and "frames_processed" in data and "timing_ms" in data


def _optional_text(value: object, what: str) -> str | None:
    return None if value is None else text(value, what)


def _timing(value: object) -> dict[str, dict[str, float | None]]:
    out = {}
    for stage, stats in obj(value, "timing_ms").items():
        where = f"timing_ms.{stage}"
        out[str(stage)] = {
            s: number(obj(stats, where).get(s), f"{where}.{s}") for s in TIMING_STATS
        }
    return out


def _detections(value: object) -> dict[str, dict[str, Any]]:
    out = {}
    for cls, row in obj(value, "detection_vs_labels").items():
        where = f"detection_vs_labels.{cls}"
        row = obj(row, where)
        checked: dict[str, Any] = {k: count(row.get(k), f"{where}.{k}") for k in DETECTION_COUNTS}
        for k in ("recall", "precision"):  # null: no label / no detection of the class
            checked[k] = number(row.get(k), f"{where}.{k}")
        out[str(cls)] = checked
    return out


def _forecasts(value: object) -> dict[str, Any]:
    where = "forecast_vs_labels"
    block = obj(value, where)
    by_class: dict[str, dict[str, float | None]] = {}
    for group, row in obj(block.get("by_class"), f"{where}.by_class").items():
        at = f"{where}.by_class.{group}"
        row = obj(row, at)
        checked: dict[str, float | None] = {"cases": float(count(row.get("cases"), f"{at}.cases"))}
        for k, v in row.items():
            if k != "cases":
                checked[str(k)] = number(v, f"{at}.{k}")
        by_class[str(group)] = checked
    return {
        "horizon_s": number(block.get("horizon_s"), f"{where}.horizon_s"),
        "miss_threshold_m": number(block.get("miss_threshold_m"), f"{where}.miss_threshold_m"),
        "match_distance_m": number(block.get("match_distance_m"), f"{where}.match_distance_m"),
        "counts": {k: count(block[k], f"{where}.{k}") for k in FORECAST_COUNTS if k in block},
        "by_class": by_class,
    }


def _tracking(value: object) -> dict[str, Any]:
    where = "tracking_vs_labels"
    block = obj(value, where)
    by_class: dict[str, dict[str, Any]] = {}
    for cls, row in obj(block.get("by_class"), f"{where}.by_class").items():
        at = f"{where}.by_class.{cls}"
        row = obj(row, at)
        checked: dict[str, Any] = {k: count(row.get(k), f"{at}.{k}") for k in TRACKING_COUNTS}
        checked.update({k: number(row.get(k), f"{at}.{k}") for k in TRACKING_FIGURES})
        by_class[str(cls)] = checked
    threshold = required_number(block.get("iou_threshold"), f"{where}.iou_threshold")
    return {
        "similarity": text(block.get("similarity"), f"{where}.similarity"),
        "iou_threshold": threshold,
        "frames_scored": count(block.get("frames_scored"), f"{where}.frames_scored"),
        "frames_without_label_ids": count(
            block.get("frames_without_label_ids"), f"{where}.frames_without_label_ids"
        ),
        "by_class": by_class,
    }


def _kitti(value: object) -> dict[str, Any]:
    block = obj(value, "kitti")
    first = count(block.get("first_frame"), "kitti.first_frame")
    last = count(block.get("last_frame"), "kitti.last_frame")
    if last < first:
        raise ValueError(f"field kitti.last_frame: {last} is before kitti.first_frame {first}")
    return {
        "sequence": text(block.get("sequence"), "kitti.sequence"),
        "frames_scored": count(block.get("frames_scored"), "kitti.frames_scored"),
        "first_frame": first,
        "last_frame": last,
        "has_tracking": block.get("tracking") is not None,
        "has_detection": block.get("detection") is not None,
    }


def read_replay(data: object) -> dict[str, Any]:
    """The checked figures of a replay summary (module docstring); blocks a replay did not
    write (no labels in the log, no KITTI log) are None. Raises ``ValueError`` naming the
    first malformed field."""
    d = obj(data, "summary")
    forecasts = d.get("forecast_vs_labels")
    detections = d.get("detection_vs_labels")
    tracking = d.get("tracking_vs_labels")
    kitti = d.get("kitti")
    files = d.get("kitti_results")  # replay --kitti-results: where its result files went
    return {
        "input": _optional_text(d.get("input"), "input"),
        "output": _optional_text(d.get("output"), "output"),
        "git_commit": _optional_text(d.get("git_commit"), "git_commit"),
        "frames_processed": count(d.get("frames_processed"), "frames_processed"),
        "frames_skipped": count(d.get("frames_skipped", 0), "frames_skipped"),
        "wall_s": number(d.get("wall_s"), "wall_s"),
        "log_duration_s": number(d.get("log_duration_s"), "log_duration_s"),
        "realtime_factor": number(d.get("realtime_factor"), "realtime_factor"),
        "clean": d.get("clean") if isinstance(d.get("clean"), bool) else None,
        "timing_ms": _timing(d.get("timing_ms")),
        "detection_vs_labels": None if detections is None else _detections(detections),
        "tracking_vs_labels": None if tracking is None else _tracking(tracking),
        "forecast_vs_labels": None if forecasts is None else _forecasts(forecasts),
        "kitti": None if kitti is None else _kitti(kitti),
        "kitti_results": None
        if files is None
        else text(obj(files, "kitti_results").get("folder"), "kitti_results.folder"),
    }


def kitti_span(kitti: dict[str, Any]) -> str:
    """``sequence 0000, frames 74-153``: what a replay's KITTI scores cover."""
    return f"sequence {kitti['sequence']}, frames {kitti['first_frame']}-{kitti['last_frame']}"


def kitti_results(data: dict[str, Any], checked: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A replay's KITTI scores (``checked`` by :func:`read_replay`, from summary ``data``) as
    the results ``drivestack eval`` writes: ``{"tracking": ..., "detection": ...}`` (each
    only when the replay scored it), recording the replay's commit."""
    kitti = checked["kitti"]
    if kitti is None:
        return {}
    block = data["kitti"]
    span = kitti_span(kitti)
    common = {"git_commit": checked["git_commit"]} if checked["git_commit"] else {}
    out: dict[str, dict[str, Any]] = {}
    if kitti["has_tracking"]:
        out["tracking"] = {
            **common,
            "metrics": block["tracking"],
            "split": span,
            "sequences": [kitti["sequence"]],
            "whole_split": False,
        }
    if kitti["has_detection"]:
        out["detection"] = {
            **common,
            "dataset": "kitti-tracking",
            "metrics": block["detection"],
            "num_frames": kitti["frames_scored"],
            "source": f"drivestack replay of {checked['input'] or 'a KITTI log'}, {span}",
        }
    return out
