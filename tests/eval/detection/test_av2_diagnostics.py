"""The AV2 ranking bound and the causes of missed labels, on a hand-built sweep."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.eval.detection.argoverse2 import Av2DetectionConfig, average_precision, evaluate
from drivestack.eval.detection.av2_diagnostics import miss_breakdown
from drivestack.ingest.argoverse2 import Av2Cuboids

CFG = Av2DetectionConfig(categories=("vehicle", "pedestrian"), eval_only_roi_instances=False)


def _table(xs: list[float], categories: list[str], scores: list[float], labels: bool) -> Av2Cuboids:
    n = len(xs)
    boxes = np.zeros((n, 7))
    boxes[:, 0] = xs
    boxes[:, 3:6] = [4.0, 2.0, 1.5]
    return Av2Cuboids(
        timestamp_ns=np.zeros(n, dtype=np.int64),
        track_uuid=np.array([f"t{i}" if labels else "" for i in range(n)]),
        category=np.array(categories),
        boxes=boxes,
        quaternion_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        num_interior_pts=np.full(n, 10 if labels else -1, dtype=np.int64),
        score=np.array(scores, dtype=np.float64),
        log_id=np.array(["log"] * n),
    )


def test_each_missed_label_gets_its_cause() -> None:
    """Vehicle labels at x = 0, 10, 20, 30, 40 m. Detections (score): a vehicle at 0.5 (0.9)
    finds the first; one at 13 (0.8) is nearest to the second label but 3 m off, and takes it
    before the vehicle at 11 (0.7), 1 m off: the second label is "taken"; a pedestrian at 20.5
    is the third's only near detection ("other category"); nothing near the fourth ("no
    detection"); a vehicle at 41 (0.1) finds the fifth."""
    gts = _table([0.0, 10.0, 20.0, 30.0, 40.0], ["vehicle"] * 5, [1.0] * 5, labels=True)
    dts = _table(
        [0.5, 13.0, 11.0, 20.5, 41.0],
        ["vehicle", "vehicle", "vehicle", "pedestrian", "vehicle"],
        [0.9, 0.8, 0.7, 0.6, 0.1],
        labels=False,
    )
    result = evaluate(dts, gts, CFG)
    miss = miss_breakdown(dts, gts, result, "vehicle", 2.0, CFG)
    assert (miss.num_labels, miss.num_found) == (5, 2)
    assert (miss.no_detection, miss.taken, miss.other_category) == (1, 1, 1)
    # the protocol's own AP at 2 m, and the same detections with both true positives first
    assert miss.ap == pytest.approx(result.ap_by_threshold["vehicle"][2.0])
    ranked_ap = average_precision(np.array([True, True, False, False]), 5)
    assert miss.ap_perfect_ranking == pytest.approx(ranked_ap)
    assert miss.ap < miss.ap_perfect_ranking
    # at 4 m the detection at 13 m finds the second label itself
    wide = miss_breakdown(dts, gts, result, "vehicle", 4.0, CFG)
    assert (wide.num_found, wide.taken) == (3, 0)


def test_a_category_without_detections_has_ap_0_and_every_label_missed() -> None:
    gts = _table([0.0, 10.0], ["pedestrian", "pedestrian"], [1.0, 1.0], labels=True)
    dts = _table([0.2], ["vehicle"], [0.5], labels=False)
    miss = miss_breakdown(dts, gts, evaluate(dts, gts, CFG), "pedestrian", 2.0, CFG)
    assert (miss.ap, miss.ap_perfect_ranking, miss.num_found) == (0.0, 0.0, 0)
    assert (miss.no_detection, miss.taken, miss.other_category) == (1, 0, 1)


def test_needs_a_protocol_threshold() -> None:
    gts = _table([0.0], ["vehicle"], [1.0], labels=True)
    dts = _table([0.0], ["vehicle"], [0.5], labels=False)
    with pytest.raises(ValueError, match="threshold"):
        miss_breakdown(dts, gts, evaluate(dts, gts, CFG), "vehicle", 3.0, CFG)
