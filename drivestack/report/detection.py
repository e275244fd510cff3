"""Detection results against a baseline: the APs of two ``drivestack eval detection`` runs.

A detection metrics.json records its ``dataset``, its ``frames`` (``num_frames``) and data
folder (``root``), and in ``metrics`` the ``protocol`` name, its ``protocol_config``
(thresholds, class ranges) and the protocol's figures. :func:`detection_values` reads them as
``(class, setting, metric) -> value`` in percent, higher is better:

- KITTI (``kitti_3d_object``): every ``<class>_<2D|BEV|3D|AOS>_<AP11|AP40>_<difficulty>
  [_strict|_loose]`` key (already percent): setting the difficulty, metric ``3D AP40 strict``;
- nuScenes-style (``nuscenes_detection_cvpr_2019``, ``center_distance_class_groups``): mAP and
  NDS (class ``all``), each class's AP per centre distance (setting ``2.0 m``) and its mean
  over the distances (setting ``mean``);
- Argoverse 2 (``argoverse2_detection[_class_groups]``): mAP and CDS (class ``all``, from
  ``AVERAGE_METRICS``), each category's AP (setting ``mean``) and CDS, and its AP per
  distance threshold.

Fractions (nuScenes, AV2) are scaled to percent, so one score tolerance in points applies to
all. Errors (ATE, trans_err, ...) are not compared: they are not scores.

A run's result is compared with the baseline's of the same file (``det/metrics.json``), else,
when each holds only one, with that one (:func:`pair_files`). Two results are compared only
when their dataset, protocol name and protocol settings agree (:func:`not_comparable`; the
class lists are coverage, not settings: a class scored in one only is listed, not compared);
scored on different frames or data folders they are compared with a warning.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from drivestack.report.fields import finite_number_or_none

#: A KITTI AP key of metrics.json (``Car_3D_AP40_moderate_strict``) and its parts.
KITTI_AP_KEY = re.compile(
    r"^(?P<cls>[A-Za-z]+)_(?P<kind>2D|BEV|3D|AOS)_(?P<ap>AP11|AP40)_(?P<diff>easy|moderate|hard)"
    r"(?:_(?P<mode>strict|loose))?$"
)
_DIFFICULTIES = ("easy", "moderate", "hard")
_KINDS = ("2D", "BEV", "3D", "AOS")
#: Protocol settings that say which classes were scored, not how: compared class by class.
_COVERAGE_KEYS = ("classes", "categories")

Key = tuple[str, str, str]  # (class, setting, metric)


def _put(out: dict[Key, float], key: Key, value: object, scale: float = 1.0) -> None:
    number = finite_number_or_none(value)
    if number is not None:
        out[key] = number * scale


def _distance(threshold: str) -> str:
    """A distance threshold as a setting: ``2.0`` -> ``2 m`` (anything else as it is)."""
    try:
        number = float(threshold)
    except ValueError:
        return threshold
    return f"{number:g} m" if math.isfinite(number) else threshold


def _metrics(data: dict[str, Any]) -> dict[str, Any]:
    """A detection metrics.json's ``metrics`` (``{}`` when it has none)."""
    metrics = data.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def detection_values(data: dict[str, Any]) -> dict[Key, float]:
    """``(class, setting, metric) -> percent`` of a detection metrics.json (module doc); ``{}``
    for a protocol it does not know. A KITTI class and difficulty with no labelled box
    (``labels_per_difficulty``) is left out: its AP of 0 is not a measurement."""
    metrics = _metrics(data)
    out: dict[Key, float] = {}
    kitti = [(m, v) for k, v in metrics.items() if (m := KITTI_AP_KEY.match(str(k)))]
    classes = list(dict.fromkeys(m["cls"] for m, _ in kitti))

    def order(mv: tuple[re.Match[str], object]) -> tuple[bool, int, bool, int, bool, int]:
        m = mv[0]  # class (Overall last), AP40 first, 2D / BEV / 3D / AOS, strict first
        return (
            m["cls"] == "Overall",
            classes.index(m["cls"]),
            m["ap"] != "AP40",
            _KINDS.index(m["kind"]),
            m["mode"] == "loose",
            _DIFFICULTIES.index(m["diff"]),
        )

    labels = metrics.get("labels_per_difficulty")
    labels = labels if isinstance(labels, dict) else {}
    for m, value in sorted(kitti, key=order):
        counts = labels.get(m["cls"])
        if isinstance(counts, dict) and counts.get(m["diff"]) == 0:
            continue  # no labelled box: its AP is 0, not a measurement
        metric = f"{m['kind']} {m['ap']}" + (f" {m['mode']}" if m["mode"] else "")
        _put(out, (m["cls"], m["diff"], metric), value)
    if "mean_ap" in metrics:  # nuScenes and the centre-distance class groups
        _put(out, ("all", "", "mAP"), metrics.get("mean_ap"), 100.0)
        _put(out, ("all", "", "NDS"), metrics.get("nd_score"), 100.0)
        for cls, value in _items(metrics.get("mean_dist_aps")):
            _put(out, (cls, "mean", "AP"), value, 100.0)
        for cls, by_distance in _items(metrics.get("label_aps")):
            for threshold, value in _items(by_distance):
                _put(out, (cls, _distance(threshold), "AP"), value, 100.0)
    summary = metrics.get("summary")
    if isinstance(summary, dict):  # Argoverse 2
        average = summary.get("AVERAGE_METRICS")
        if isinstance(average, dict):
            _put(out, ("all", "", "mAP"), average.get("AP"), 100.0)
            _put(out, ("all", "", "CDS"), average.get("CDS"), 100.0)
        for cat, row in _items(summary):
            if cat != "AVERAGE_METRICS" and isinstance(row, dict):
                _put(out, (cat, "mean", "AP"), row.get("AP"), 100.0)
                _put(out, (cat, "", "CDS"), row.get("CDS"), 100.0)
        for cat, by_distance in _items(metrics.get("ap_by_threshold")):
            for threshold, value in _items(by_distance):
                _put(out, (cat, _distance(threshold), "AP"), value, 100.0)
    return out


def _items(value: object) -> list[tuple[str, Any]]:
    return [(str(k), v) for k, v in value.items()] if isinstance(value, dict) else []


def headline_keys(data: dict[str, Any], values: dict[Key, float]) -> list[Key]:
    """The main figures of a result: KITTI's moderate BEV and 3D AP40 (strict) per class,
    nuScenes-style mAP and NDS, AV2's mAP and CDS; those present in ``values``."""
    config = _metrics(data).get("protocol_config")
    classes = config.get("classes") if isinstance(config, dict) else None
    if not isinstance(classes, list):
        classes = list(dict.fromkeys(c for c, _, _ in values if c not in ("Overall", "all")))
    wanted: list[Key] = [
        (str(cls), "moderate", f"{kind} AP40 strict") for cls in classes for kind in ("BEV", "3D")
    ]
    wanted += [("all", "", m) for m in ("mAP", "NDS", "CDS")]
    return [k for k in wanted if k in values]


def label(key: Key) -> str:
    """``Car moderate 3D AP40 strict``, ``mAP``, ``vehicle 2 m AP``."""
    cls, setting, metric = key
    return metric if cls == "all" else " ".join(p for p in (cls, setting, metric) if p)


def pair_files(run: dict[str, Any], baseline: dict[str, Any]) -> list[tuple[str, str]]:
    """``(run file, baseline file)`` of the detection results compared: the same file, else,
    when each run holds exactly one, those two."""
    pairs = [(rel, rel) for rel in run if rel in baseline]
    if not pairs and len(run) == 1 and len(baseline) == 1:
        pairs = [(next(iter(run)), next(iter(baseline)))]
    return pairs


def _protocol(data: dict[str, Any]) -> tuple[object, object, object]:
    """A result's dataset, protocol name and protocol settings."""
    metrics = _metrics(data)
    return data.get("dataset"), metrics.get("protocol"), metrics.get("protocol_config")


def _config_differences(mine: object, theirs: object) -> list[str]:
    """The protocol settings that differ (class lists aside; per-class settings compared on
    the classes both score); ``[]`` when either result does not record its settings."""
    if not isinstance(mine, dict) or not isinstance(theirs, dict):
        return []
    out = []
    for key in dict.fromkeys([*mine, *theirs]):
        if key in _COVERAGE_KEYS:
            continue
        a, b = mine.get(key), theirs.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            if any(a[c] != b[c] for c in a if c in b):
                out.append(str(key))
        elif a != b:
            out.append(str(key))
    return out


def not_comparable(run: dict[str, Any], baseline: dict[str, Any]) -> str:
    """Why two detection results are not comparable (their datasets, protocols or protocol
    settings differ); ``""`` when they are."""
    (dataset, protocol, config), (b_dataset, b_protocol, b_config) = (
        _protocol(run),
        _protocol(baseline),
    )
    if dataset != b_dataset:
        return "their datasets differ"
    if protocol != b_protocol:
        return "their protocols differ"
    differ = _config_differences(config, b_config)
    if differ:
        return f"their protocol settings differ ({', '.join(differ)})"
    return ""


def _frames(data: dict[str, Any]) -> tuple[list[str] | None, object, object]:
    frames = data.get("frames")
    listed = [str(f) for f in frames] if isinstance(frames, list) else None
    return listed, data.get("num_frames"), data.get("root")


def _described(data: dict[str, Any], path: Path) -> str:
    dataset, protocol, _ = _protocol(data)
    return f"{path}: dataset {dataset}, protocol {protocol}"


def frames_warning(
    run: dict[str, Any], baseline: dict[str, Any], run_path: Path, baseline_path: Path
) -> str:
    """A warning when two results were not scored on the same scans (other frames, another
    number of them, another data folder); ``""`` when they were (or neither says)."""
    (frames, n, root), (b_frames, b_n, b_root) = _frames(run), _frames(baseline)
    why = []
    if frames is not None and b_frames is not None:
        if set(frames) != set(b_frames):
            common = len(set(frames) & set(b_frames))
            why.append(f"{len(frames)} frames against {len(b_frames)}, {common} in common")
    elif n != b_n and n is not None and b_n is not None:
        why.append(f"{n} frames against {b_n}")
    if root and b_root and root != b_root:
        why.append(f"data folders {root} and {b_root}")
    if not why:
        return ""
    return (
        f"the detection results of the run ({run_path}) and of the baseline ({baseline_path}) "
        f"were not scored on the same scans ({'; '.join(why)}): their AP differences are not "
        "the detector's alone"
    )


def compare_detection(
    run: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    run_root: Path,
    baseline_root: Path,
    tolerance: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The comparisons of the paired results (:func:`pair_files`; ``rows`` of class, setting,
    metric, value, baseline and delta, empty when not comparable), the APs that dropped by
    more than ``tolerance`` points (largest drop first) and the warnings."""
    comparisons: list[dict[str, Any]] = []
    regressions: list[dict[str, Any]] = []
    warnings: list[str] = []
    for rel, b_rel in pair_files(run, baseline):
        mine, theirs = run[rel], baseline[b_rel]
        why = not_comparable(mine, theirs)
        (dataset, protocol, _), (b_dataset, b_protocol, _) = _protocol(mine), _protocol(theirs)
        entry: dict[str, Any] = {
            "file": rel,
            "baseline_file": b_rel,
            "dataset": dataset,
            "protocol": protocol,
            "baseline_dataset": b_dataset,
            "baseline_protocol": b_protocol,
            "num_frames": mine.get("num_frames"),
            "baseline_num_frames": theirs.get("num_frames"),
            "comparable": not why,
            "not_comparable": why,
            "same_frames": True,
            "rows": [],
            "only_in_run": [],
            "only_in_baseline": [],
        }
        comparisons.append(entry)
        if why:
            warnings.append(
                f"the detection results of the run ({_described(mine, run_root / rel)}) and "
                f"of the baseline ({_described(theirs, baseline_root / b_rel)}) are not "
                f"comparable: {why}; no AP difference is shown"
            )
            continue
        frames = frames_warning(mine, theirs, run_root / rel, baseline_root / b_rel)
        if frames:
            entry["same_frames"] = False
            warnings.append(frames)
        values, b_values = detection_values(mine), detection_values(theirs)
        entry["only_in_run"] = [label(k) for k in values if k not in b_values]
        entry["only_in_baseline"] = [label(k) for k in b_values if k not in values]
        for key, value in values.items():
            if key not in b_values:
                continue
            before = b_values[key]
            row = {
                "class": key[0],
                "setting": key[1],
                "metric": key[2],
                "value": value,
                "baseline": before,
                "delta": value - before,
            }
            entry["rows"].append(row)
            if value < before - tolerance:
                regressions.append({"file": rel, "baseline_file": b_rel, **row})
    regressions.sort(key=lambda r: r["delta"])
    return comparisons, regressions, warnings


def headline(
    run: dict[str, dict[str, Any]], comparisons: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Headline lines of the run's detection results (:func:`headline_keys`), with the
    baseline's figure from ``comparisons`` (:func:`compare_detection`: only a comparable
    pair has rows; None otherwise)."""
    before = {
        c["file"]: {(r["class"], r["setting"], r["metric"]): r["baseline"] for r in c["rows"]}
        for c in comparisons
    }
    lines = []
    for rel, data in run.items():
        values = detection_values(data)
        b_values = before.get(rel, {})
        where = f" ({rel})" if len(run) > 1 else ""
        for key in headline_keys(data, values):
            lines.append(
                {
                    "name": f"detection {label(key)}{where}",
                    "value": values[key],
                    "baseline": b_values.get(key),
                    "anchor": None,
                }
            )
    return lines
