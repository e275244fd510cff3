"""Why an Argoverse 2 AP is what it is: the ranking bound and the causes of the missed labels.

The AV2 protocol (:mod:`drivestack.eval.detection.argoverse2`) ranks a category's detections by
score, gives each its nearest label of the sweep and lets the first detection of each label
take it (a true positive when it lies within the affinity threshold). Two numbers tell a
detector's developer where the rest of the AP went:

* **ranking bound**: the AP the same detections would reach with every true positive ranked
  above every false one (the recall they reach is fixed; only the scores would change);
* **missed labels by cause**, at one threshold, for every evaluated label no detection took:

  - ``other_category``: no detection of the category within the threshold, but one of
    another category is (a classification error);
  - ``taken``: a detection of the category lies within the threshold but went elsewhere: its
    nearest label is another one, or a higher-ranked detection farther away took this label
    first (the protocol's nearest-label assignment);
  - ``no_detection``: nothing within the threshold (a missed object or a box too far off).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from drivestack.eval.detection.argoverse2 import (
    Av2DetectionConfig,
    Av2Evaluation,
    average_precision,
    ranked_by_score,
)
from drivestack.ingest.argoverse2 import Av2Cuboids


@dataclass(frozen=True)
class MissBreakdown:
    """One category's AP at one threshold, its ranking bound and its missed labels by cause."""

    category: str
    threshold_m: float
    num_labels: int
    num_found: int
    ap: float
    ap_perfect_ranking: float
    no_detection: int
    taken: int
    other_category: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sweeps(c: Av2Cuboids) -> dict[tuple[str, int], np.ndarray]:
    """Row indices of ``c`` per ``(log_id, timestamp_ns)``."""
    keys: dict[tuple[str, int], list[int]] = {}
    for i, key in enumerate(zip(c.log_id.tolist(), c.timestamp_ns.tolist(), strict=True)):
        keys.setdefault(key, []).append(i)
    return {k: np.asarray(v) for k, v in keys.items()}


def miss_breakdown(
    dts: Av2Cuboids,
    gts: Av2Cuboids,
    evaluation: Av2Evaluation,
    category: str,
    threshold_m: float,
    cfg: Av2DetectionConfig | None = None,
) -> MissBreakdown:
    """:class:`MissBreakdown` of ``category`` at ``threshold_m`` (one of the config's affinity
    thresholds) from the detections and labels :func:`~drivestack.eval.detection.argoverse2.
    evaluate` scored into ``evaluation`` (same tables, same config)."""
    cfg = cfg or Av2DetectionConfig()
    if threshold_m not in cfg.affinity_thresholds_m:
        raise ValueError(
            f"threshold {threshold_m} m is not one of the protocol's {cfg.affinity_thresholds_m}"
        )
    column = cfg.affinity_thresholds_m.index(threshold_m)
    dt_eval, gt_eval = evaluation.dts_evaluated, evaluation.gts_evaluated
    mine = np.flatnonzero(dt_eval & (dts.category == category))
    mine = ranked_by_score(dts, mine)  # the protocol's ranking, ties included
    is_tp = evaluation.dts_metrics[mine, column].astype(bool)
    num_labels = int((gt_eval & (gts.category == category)).sum())
    scored = num_labels > 0 and len(is_tp) > 0  # else AP 0, as the protocol's summary has it
    ap = average_precision(is_tp, num_labels, cfg.num_recall_samples) if scored else 0.0
    ranked = np.sort(is_tp)[::-1]
    bound = average_precision(ranked, num_labels, cfg.num_recall_samples) if scored else 0.0
    counts = {"no_detection": 0, "taken": 0, "other_category": 0}
    found = 0
    dt_sweeps = _sweeps(dts)
    for key, g_idx in _sweeps(gts).items():
        labels = g_idx[gt_eval[g_idx] & (gts.category[g_idx] == category)]
        if len(labels) == 0:
            continue
        d_idx = dt_sweeps.get(key, np.zeros(0, dtype=np.int64))
        d_idx = d_idx[dt_eval[d_idx]]
        same = d_idx[dts.category[d_idx] == category]
        other = d_idx[dts.category[d_idx] != category]
        taken_by = _nearest_label(dts.boxes[same, :3], gts.boxes[labels, :3])
        tp_same = evaluation.dts_metrics[same, column].astype(bool)
        matched = np.zeros(len(labels), dtype=bool)
        matched[taken_by[tp_same]] = True
        found += int(matched.sum())
        for k in np.flatnonzero(~matched):
            centre = gts.boxes[labels[k], :3]
            if np.any(np.linalg.norm(dts.boxes[same, :3] - centre, axis=1) < threshold_m):
                counts["taken"] += 1
            elif np.any(np.linalg.norm(dts.boxes[other, :3] - centre, axis=1) < threshold_m):
                counts["other_category"] += 1
            else:
                counts["no_detection"] += 1
    return MissBreakdown(
        category, threshold_m, num_labels, found, float(ap), float(bound), **counts
    )


def _nearest_label(centre_m: np.ndarray, label_centre_m: np.ndarray) -> np.ndarray:
    """``(D,)`` index of the label the protocol gives each of ``(D, 3)`` detections: its
    nearest of the ``(L, 3)`` label centres (-1 without labels)."""
    if len(label_centre_m) == 0 or len(centre_m) == 0:
        return np.full(len(centre_m), -1, dtype=np.int64)
    distance = np.linalg.norm(centre_m[:, None, :] - label_centre_m[None, :, :], axis=2)
    return np.argmin(distance, axis=1)
