"""Perception and tracking scores of a ``drivestack sim --perception lidar`` run in a report.

The run's ``summary.json`` holds, per planner, ``perception_metrics`` (the stack's detections
and tracks against the simulator's true agents over every frame of the planner's runs:
:mod:`drivestack.sim.perception_metrics`): ``frames``, ``detection.<class>`` (``AP``, or for
``all`` ``mAP``; ``recall``, ``precision``, ``TP``, ``FP``, ``GT``) and ``tracking.<class>``
(``MOTA``, ``MOTP_m``, ``IDS``, ``TP``, ``FP``, ``FN``, ``GT``; ``AVE_mps``, the mean tracked
velocity error, absent from runs made before it was measured). :func:`read_sim_perception`
checks every field the report shows and gives one row per planner and class.
"""

from __future__ import annotations

from typing import Any

from drivestack.report.fields import count, number, obj

#: Fractions of a row (shown in percent); ``AP`` is ``mAP`` in the ``all`` row.
DETECTION_RATES = ("AP", "recall", "precision")
DETECTION_COUNTS = ("TP", "FP", "GT")
TRACKING_RATES = ("MOTA", "recall", "precision")
TRACKING_COUNTS = ("IDS", "TP", "FP", "FN", "GT")


def _row(
    block: dict[str, Any], where: str, rates: tuple[str, ...], counts: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in rates:
        key = "mAP" if k == "AP" and "AP" not in block and "mAP" in block else k
        out[k] = number(block.get(key), f"{where}.{key}")  # null: undefined (no true agent)
    for k in counts:
        out[k] = count(block.get(k), f"{where}.{k}")
    return out


def _planner(value: object, where: str) -> dict[str, Any]:
    block = obj(value, where)
    frames = count(block.get("frames"), f"{where}.frames")
    detection = obj(block.get("detection"), f"{where}.detection")
    tracking = obj(block.get("tracking"), f"{where}.tracking")
    classes: dict[str, dict[str, Any]] = {}
    for cls, row in detection.items():
        at = f"{where}.detection.{cls}"
        classes.setdefault(str(cls), {})["detection"] = _row(
            obj(row, at), at, DETECTION_RATES, DETECTION_COUNTS
        )
    for cls, row in tracking.items():
        at = f"{where}.tracking.{cls}"
        checked = _row(obj(row, at), at, TRACKING_RATES, TRACKING_COUNTS)
        for key in ("MOTP_m", "AVE_mps"):
            checked[key] = number(row.get(key), f"{at}.{key}")
        classes.setdefault(str(cls), {})["tracking"] = checked
    # the pooled row last, as the simulator prints it
    ordered = {c: classes[c] for c in classes if c != "all"}
    if "all" in classes:
        ordered["all"] = classes["all"]
    return {"frames": frames, "classes": ordered}


def read_sim_perception(summary: object) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``({planner: {"frames", "classes": {class: {"detection": row, "tracking": row}}}},
    problems)`` from a sim run's ``summary.json`` content (``manifest["summary"]``): the
    planners whose entry has ``perception_metrics``; a planner whose figures are malformed is
    left out and its problem (``field <planner>.perception_metrics.<...>: ...``) returned."""
    out: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    if not isinstance(summary, dict):
        return out, problems
    for planner, entry in summary.items():
        if not isinstance(entry, dict) or entry.get("perception_metrics") is None:
            continue
        try:
            out[str(planner)] = _planner(
                entry["perception_metrics"], f"{planner}.perception_metrics"
            )
        except ValueError as exc:
            problems.append(str(exc))
    return out, problems
